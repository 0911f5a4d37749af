"""Caption and Partial events -> one-bit PIL images of the screen (what the golden tests pin).

A caption is laid out once into a Page (wrapped lines, tag, how far it overflows); each frame
is then the page drawn at a scroll offset. Partial text is shown from its end (the newest
words) with the listening dots in place of the face, and a dotted left edge.
"""
from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageDraw

from emocap.captions import Caption, Partial
from emocap.config import DisplayConfig
from emocap.display import icons, layout
from emocap.display.controller import screen_size
from emocap.display.layout import GAP, ICON, MARGIN, Font, Geometry

TAG_X = MARGIN + ICON + GAP
"""Left edge of the [label] text, pixels."""


@dataclass(frozen=True)
class Style:
    """Everything drawing needs, built once from [display]."""

    font: Font
    geo: Geometry
    scroll_px_s: float
    scroll_pause_s: float


@dataclass(frozen=True)
class Page:
    lines: tuple[str, ...]
    icon: str | None
    """A label, icons.LISTENING, or None (a caption too short or too unsure to tag)."""
    tag: str
    tag_font: Font
    """The font, or a smaller size of it where [label] would not fit beside the icon."""
    partial: bool
    overflow: int
    """Pixels of text below the text area."""


def make_style(cfg: DisplayConfig) -> Style:
    font = layout.load_font(cfg.font, cfg.font_size)
    return Style(font, layout.geometry(screen_size(cfg), font), cfg.scroll_px_s, cfg.scroll_pause_s)


def make_page(event: Caption | Partial, style: Style) -> Page:
    lines = tuple(layout.wrap(event.text, style.font, style.geo.text_w))
    extra = layout.overflow(len(lines), style.geo)
    if isinstance(event, Partial):
        return Page(lines, icons.LISTENING, "", style.font, True, extra)
    label = event.emotion if event.tagged else None  # an unsure tag is not drawn at all
    tag = f"[{label}]" if label else ""
    tag_font = layout.fit_font(style.font, tag, style.geo.width - TAG_X)
    return Page(lines, label, tag, tag_font, False, extra)


def offset_at(page: Page, elapsed_s: float, style: Style) -> int:
    """Scroll offset `elapsed_s` after the page appeared; partial text stays on its newest lines."""
    if page.partial:
        return page.overflow
    return layout.scroll_offset(elapsed_s, page.overflow, style.scroll_px_s, style.scroll_pause_s)


def moving(page: Page) -> bool:
    """True while frames of this page change with time (a final caption longer than the screen)."""
    return not page.partial and page.overflow > 0


def draw(page: Page | None, offset: int, style: Style) -> Image.Image:
    geo = style.geo
    img = Image.new("1", (geo.width, geo.height), 0)
    if page is None:
        return img
    img.paste(_text_area(page, offset, style), (0, 0))
    d = ImageDraw.Draw(img)
    if page.partial:  # a dotted left edge: this text may still change
        d.point([(0, y) for y in range(0, geo.text_h, 2)], fill=1)
    d.line((0, geo.rule_y, geo.width - 1, geo.rule_y), fill=1)
    _tag_row(img, page, style)
    return img


def render(event: Caption | Partial | None, elapsed_s: float, style: Style) -> Image.Image:
    """The frame for an event `elapsed_s` after it appeared."""
    if event is None:
        return draw(None, 0, style)
    page = make_page(event, style)
    return draw(page, offset_at(page, elapsed_s, style), style)


def _text_area(page: Page, offset: int, style: Style) -> Image.Image:
    """The lines drawn `offset` pixels up, clipped to the text area."""
    geo = style.geo
    area = Image.new("1", (geo.width, geo.text_h), 0)
    d = ImageDraw.Draw(area)
    first = offset // geo.line_h
    for i in range(first, min(len(page.lines), first + geo.text_h // geo.line_h + 2)):
        d.text((MARGIN + page.partial, i * geo.line_h - offset), page.lines[i], font=style.font, fill=1)
    return area


def _tag_row(img: Image.Image, page: Page, style: Style) -> None:
    geo = style.geo
    face = icons.icon(page.icon) if page.icon else None
    if face is not None:
        img.paste(face, (MARGIN, geo.tag_y + (geo.tag_h - ICON) // 2))
    if page.tag:
        ascent, descent = page.tag_font.getmetrics()
        y = geo.tag_y + (geo.tag_h - ascent - descent) // 2
        ImageDraw.Draw(img).text((TAG_X, y), page.tag, font=page.tag_font, fill=1)
