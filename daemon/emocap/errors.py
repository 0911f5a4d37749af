"""One error hierarchy for every library boundary; the CLI catches EmocapError once."""


class EmocapError(Exception):
    """A problem the user can fix; the message is one line naming what and how."""


class ConfigError(EmocapError):
    """config.toml is unreadable, has an unknown key, a wrong type or an out-of-range value."""


class AudioError(EmocapError):
    """An audio file or device cannot be opened or read."""


class ModelError(EmocapError):
    """A model file (ONNX or Vosk) is missing, unreadable or breaks the model contract."""


class DisplayError(EmocapError):
    """The display device cannot be opened or drawn to."""
