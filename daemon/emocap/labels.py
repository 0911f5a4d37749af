"""The label set: the emotion models' own (their ONNX metadata), never a constant here.

``[captions] emoji`` cannot be checked when the config is read (the models are not open
yet); the builder and ``check-config`` check it against the labels of the models they open.
"""
from __future__ import annotations

from typing import Iterable

from emocap.config import Config
from emocap.emotion.model import EmotionModel
from emocap.errors import ConfigError


def of_models(models: Iterable[EmotionModel]) -> list[str]:
    """Every label the models name, in first-seen order."""
    return list(dict.fromkeys(label for m in models for label in m.labels))


def check_emoji(cfg: Config, labels: list[str]) -> None:
    """``[captions] emoji`` gives a string for each of ``labels`` and names no other."""
    emoji = cfg.captions.emoji
    if set(emoji) != set(labels) or not all(isinstance(v, str) for v in emoji.values()):
        raise ConfigError(f"{cfg.source}: [captions] emoji: expected a string for each of the models' labels {labels}")
