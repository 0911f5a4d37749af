"""A model file checked against its model card before it is loaded.

A model cut short or damaged on the SD card usually fails to parse, but damage inside the
weights still parses as ONNX and then quietly gives wrong emotions. The card beside a model
(``<name>.json``, written by tools/export.py and tools/ensemble.py) records its sha256; a
model without a card, or whose card names another file, is taken as it is.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from emocap.errors import ModelError


def card_sha256(path: Path) -> str | None:
    """The sha256 that the card beside ``path`` records for it, or None."""
    try:
        card = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(card, dict) or card.get("file") != path.name or not isinstance(card.get("sha256"), str):
        return None
    return card["sha256"]


def check_against_card(path: Path) -> None:
    """ModelError naming the file when its contents differ from what its card records."""
    expected = card_sha256(path)
    if expected is None:
        return
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected:
        raise ModelError(f"{path}: damaged or replaced: its sha256 {digest[:12]}... differs from the "
                         f"{expected[:12]}... of its model card {path.with_suffix('.json').name}; "
                         "reinstall it or rebuild both with tools/build_models.sh")
