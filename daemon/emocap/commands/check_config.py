"""``emocap check-config [PATH]``: exit 0 when the config is valid, 2 with one line if not."""
from __future__ import annotations

import argparse
from pathlib import Path

from emocap import asr, config, labels
from emocap.emotion.model import EmotionModel
from emocap.errors import ConfigError, ModelError

NAME = "check-config"
HELP = "validate a config file (keys, types, ranges, model files) without starting anything"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", nargs="?", type=Path, help="config file (default: $EMOCAP_CONFIG, else /etc/emocap/config.toml, else the packaged one)")


def main(args: argparse.Namespace) -> int:
    cfg = config.load(args.path)
    _check_models(cfg)
    print(f"{cfg.source}: ok")
    return 0


def _check_models(cfg: config.Config) -> None:
    """Open each model the way the service will (metadata, shapes; no audio), naming the key."""
    checks = [("[emotion] small_model", lambda: EmotionModel(cfg.emotion.small_model)),
              ("[emotion] large_model", lambda: EmotionModel(cfg.emotion.large_model)),
              ("[asr] model", lambda: asr.model_dir(cfg.asr.model))]
    opened = []
    for key, check in checks:
        try:
            opened.append(check())
        except ModelError as e:
            raise ConfigError(f"{cfg.source}: {key}: {e}") from None
    labels.check_emoji(cfg, labels.of_models(opened[:2]))
    if cfg.audio.source == "file" and not Path(cfg.audio.demo_file).is_file():
        raise ConfigError(f"{cfg.source}: [audio] demo_file: {cfg.audio.demo_file} not found; expected an audio file")
