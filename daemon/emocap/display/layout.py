"""Pure layout of the caption screen: where the text and the tag row go, how text wraps by
pixel width, and how far a long caption has scrolled at a given moment. No clock and no
device: time comes in as an argument, so everything here is a plain function of its inputs.

    +--------------------------------+
    | 오늘 기분이 좋아보이네요       |  text area: whole lines only, scrolls
    | ...                            |  vertically when the caption is longer
    +--------------------------------+  rule
    | :-) [happiness]                |  tag row: icon + [label], never scrolls
    +--------------------------------+
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

from emocap.errors import ConfigError

ICON = 15
"""Icon square, pixels (odd, so a face has a centre column)."""
MARGIN = 1
"""Blank columns left and right of the text, pixels."""
GAP = 3
"""Pixels between the icon and the tag text."""
LEADING = 1
"""Blank rows added between lines, pixels (Hangul fills its em box; without it lines touch)."""
MIN_TAG_SIZE = 8
"""Smallest tag font size, pixels, when [label] must shrink to fit a narrow screen."""

Font = ImageFont.FreeTypeFont


@dataclass(frozen=True)
class Geometry:
    """Pixel rows and columns of one screen size and font."""

    width: int
    height: int
    line_h: int
    """Distance between lines, pixels (font ascent + descent + LEADING)."""
    text_h: int
    """Height of the text area at the top, pixels: whole lines (the last without leading)."""
    rule_y: int
    """Row of the one-pixel rule under the text; one blank row follows it."""
    tag_y: int
    """Top row of the tag row (icon and [label])."""

    @property
    def text_w(self) -> int:
        return self.width - 2 * MARGIN

    @property
    def tag_h(self) -> int:
        return self.height - self.tag_y


def load_font(path: str, size: int) -> Font:
    """The TrueType font; BASIC layout so frames are identical whether or not libraqm exists."""
    if not Path(path).is_file():
        raise ConfigError(f"[display] font: font file {path} not found; install "
                          "fonts-nanum (apt install fonts-nanum) or set it to a TrueType file with Hangul")
    try:
        font = ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.BASIC)
    except OSError as e:
        raise ConfigError(f"[display] font: {path} is not a readable TrueType font ({e})") from None
    if not _has_hangul(font):
        raise ConfigError(f"[display] font: {path} has no Hangul glyphs; use a font such as "
                          "/usr/share/fonts/truetype/nanum/NanumGothic.ttf")
    return font


def _has_hangul(font: Font) -> bool:
    """A font without Hangul draws '가' as its missing-glyph box, like an unassigned code point."""
    missing = font.getmask("\U0010FFFD", mode="1")
    ga = font.getmask("가", mode="1")
    return ga.size != missing.size or bytes(ga) != bytes(missing)


def geometry(size: tuple[int, int], font: Font) -> Geometry:
    """Split the screen into text area, rule and tag row; ConfigError when nothing fits."""
    width, height = size
    ascent, descent = font.getmetrics()
    line_h = ascent + descent + LEADING
    tag_h = max(ICON, ascent + descent)
    lines = (height - tag_h - 2 + LEADING) // line_h  # 2: the rule and the blank row below it
    if lines < 1:
        raise ConfigError(f"[display] font_size: {font.size} px text plus the tag row needs "
                          f"{line_h - LEADING + tag_h + 2} px of height, the screen has {height}; "
                          "lower font_size")
    text_h = lines * line_h - LEADING
    return Geometry(width, height, line_h, text_h, text_h, height - tag_h)


def text_width(font: Font, text: str) -> int:
    """Pixels from the origin to the right edge of the ink or advance, whichever is further."""
    return int(font.getbbox(text, mode="1")[2]) if text else 0


def wrap(text: str, font: Font, width: int) -> list[str]:
    """Lines no wider than `width`: break between words; a word wider than a line (a long
    Korean eojeol, a URL) breaks between characters. Only the spaces at breaks are lost."""
    lines: list[str] = []
    line = ""
    for word in unicodedata.normalize("NFC", text).split():
        joined = f"{line} {word}" if line else word
        if text_width(font, joined) <= width:
            line = joined
            continue
        if line:
            lines.append(line)
        pieces = _break_word(word, font, width)
        lines.extend(pieces[:-1])
        line = pieces[-1]
    if line:
        lines.append(line)
    return lines


def _break_word(word: str, font: Font, width: int) -> list[str]:
    pieces = [""]
    for char in word:
        if pieces[-1] and text_width(font, pieces[-1] + char) > width:
            pieces.append("")
        pieces[-1] += char
    return pieces


def overflow(n_lines: int, geo: Geometry) -> int:
    """Pixels of text below the text area (0 when the caption fits)."""
    return max(0, n_lines * geo.line_h - LEADING - geo.text_h)


def scroll_offset(elapsed_s: float, overflow_px: int, speed_px_s: float, pause_s: float) -> int:
    """How far a long caption has scrolled up, pixels, `elapsed_s` after it appeared.

    It rests `pause_s` at the start, moves at `speed_px_s` until its last line shows, rests
    `pause_s` at the end, then starts over, so a glance at any moment finds it readable
    most of the time."""
    if overflow_px <= 0:
        return 0
    period = 2 * pause_s + overflow_px / speed_px_s
    t = elapsed_s % period
    return min(overflow_px, int(max(0.0, t - pause_s) * speed_px_s))


def fit_font(font: Font, text: str, width: int) -> Font:
    """`font`, or a smaller size of it (down to MIN_TAG_SIZE) that fits `text` in `width`."""
    size = font.size
    while text_width(font, text) > width and size > MIN_TAG_SIZE:
        size -= 1
        font = font.font_variant(size=size)
    return font
