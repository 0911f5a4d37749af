"""A 15 x 15 one-bit face per emotion label, drawn by this code (no image files, no emoji font).

How they are made: each face is an outlined circle plus eyes, brows and mouth placed on the
15-pixel grid with Pillow's ImageDraw primitives (point, line, ellipse, chord, arc) at exact
integer coordinates, so the result is the same pixels on every machine. Every label has an
eye or mouth shape no other label has, so a glance tells them apart:

    happiness  ^ ^ eyes, open smile        surprise  round eyes, round open mouth
    neutral    dot eyes, flat mouth        fear      round eyes, zigzag mouth
    disgust    > < eyes, wavy mouth        anger     brows down to the middle, frown
    sadness    brows up in the middle, frown, a tear

To change one, edit its function below, render tests/golden/icon_<label>.png again with
EMOCAP_REGEN_GOLDEN=1 (see tests/test_display_golden.py) and look at the result.
"""
from __future__ import annotations

from typing import Callable

from PIL import Image, ImageDraw

from emocap.display.layout import ICON

Draw = ImageDraw.ImageDraw
ON = 1
R = ICON - 1  # last pixel row/column: features mirror around column R / 2


def _mirror(points: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return [(R - x, y) for x, y in points]


def _both(d: Draw, points: list[tuple[int, int]]) -> None:
    """Draw a left-side feature and its mirror image on the right."""
    d.point(points, fill=ON)
    d.point(_mirror(points), fill=ON)


def _dot_eyes(d: Draw) -> None:
    _both(d, [(4, 5), (5, 5), (4, 6), (5, 6)])


def _round_eyes(d: Draw) -> None:
    _both(d, [(4, 4), (3, 5), (5, 5), (3, 6), (5, 6), (4, 7)])


def _happiness(d: Draw) -> None:
    _both(d, [(3, 6), (4, 5), (5, 5), (6, 6)])
    d.chord((3, 6, 11, 12), 0, 180, fill=ON)


def _surprise(d: Draw) -> None:
    _round_eyes(d)
    d.ellipse((5, 9, 9, 12), outline=ON)


def _neutral(d: Draw) -> None:
    _dot_eyes(d)
    d.line((4, 10, 10, 10), fill=ON)


def _fear(d: Draw) -> None:
    _round_eyes(d)
    d.point([(3, 11), (4, 10), (5, 11), (6, 10), (7, 11), (8, 10), (9, 11), (10, 10), (11, 11)], fill=ON)


def _disgust(d: Draw) -> None:
    _both(d, [(3, 4), (4, 5), (5, 6), (4, 7), (3, 8)])
    d.point([(3, 11), (4, 11), (5, 10), (6, 10), (7, 11), (8, 11), (9, 10), (10, 10), (11, 11)], fill=ON)


def _anger(d: Draw) -> None:
    _both(d, [(2, 3), (3, 3), (3, 4), (4, 4), (5, 4), (5, 5), (6, 5)])
    _both(d, [(4, 7), (5, 7)])
    d.line((5, 10, 9, 10), fill=ON)
    d.point([(4, 11), (10, 11)], fill=ON)


def _sadness(d: Draw) -> None:
    _both(d, [(3, 5), (4, 4), (5, 4), (6, 3)])
    _both(d, [(4, 6), (5, 6)])
    d.line((6, 11, 8, 11), fill=ON)
    d.point([(5, 12), (9, 12)], fill=ON)
    d.point([(4, 8), (3, 9), (4, 9), (3, 10), (4, 10)], fill=ON)  # a tear below the left eye


def _listening(d: Draw) -> None:
    """Not a label: three dots, shown while partial text is still coming."""
    for x in (3, 7, 11):
        d.rectangle((x - 1, 6, x, 7), fill=ON)


_FEATURES: dict[str, Callable[[Draw], None]] = {
    "happiness": _happiness, "surprise": _surprise, "neutral": _neutral, "fear": _fear,
    "disgust": _disgust, "anger": _anger, "sadness": _sadness,
}
LISTENING = "listening"


def icon(label: str) -> Image.Image | None:
    """The ICON x ICON "1" image for a label (or LISTENING); None for a label without one."""
    if label == LISTENING:
        img = Image.new("1", (ICON, ICON), 0)
        _listening(ImageDraw.Draw(img))
        return img
    features = _FEATURES.get(label)
    if features is None:
        return None
    img = Image.new("1", (ICON, ICON), 0)
    d = ImageDraw.Draw(img)
    d.ellipse((0, 0, R, R), outline=ON)
    features(d)
    return img
