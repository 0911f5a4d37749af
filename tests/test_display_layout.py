"""Wrapping by pixel width, scroll timing, screen geometry, the caption hold, font checks."""
import unicodedata
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from emocap.captions import Caption, Partial
from emocap.display import layout
from emocap.display.layout import MARGIN
from emocap.display.screen import Screen
from emocap.errors import ConfigError

NANUM = "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
TEXTS = [
    "오늘 기분이 좋아보이네요",
    "지금 몇 시인지 알려 주실 수 있나요 회의가 곧 시작하는데 늦을 것 같아서 걱정이에요",
    "Good morning! How are you feeling today?",
    "가나다라마바사아자차카타파하" * 3,  # one "word" far wider than the screen
    "see https://example.org/a/very/long/path/that/cannot/fit/on/one/line ok",
    "Vosk가 인식한 text와 한국어가 섞인 caption",
]


@pytest.fixture(scope="module")
def font():
    if not Path(NANUM).is_file():
        pytest.skip("fonts-nanum is not installed")
    return layout.load_font(NANUM, 13)


def ink_right(text, font) -> int:
    """Rightmost lit column when `text` is really drawn at x = 0 in 1-bit mode."""
    img = Image.new("1", (600, 30), 0)
    ImageDraw.Draw(img).text((0, 0), text, font=font, fill=1)
    box = img.getbbox()
    return box[2] if box else 0


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("width", [126, 62])
def test_wrap_keeps_every_line_inside_the_screen(font, text, width):
    lines = layout.wrap(text, font, width)
    assert lines
    for line in lines:
        assert ink_right(line, font) <= width, line
        assert layout.text_width(font, line) <= width, line


@pytest.mark.parametrize("text", TEXTS)
def test_wrap_loses_no_text(font, text):
    lines = layout.wrap(text, font, 126)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert all(line == line.strip() for line in lines)


def test_wrap_breaks_between_words_when_it_can(font):
    assert layout.wrap("오늘 기분이 좋아보이네요", font, 126) == ["오늘 기분이", "좋아보이네요"]
    assert layout.wrap("Good morning! How are you feeling today?", font, 126) == [
        "Good morning!", "How are you feeling", "today?"]


def test_wrap_breaks_a_long_word_between_characters(font):
    word = "가나다라마바사아자차카타파하" * 3
    lines = layout.wrap(word, font, 126)
    assert len(lines) > 2 and "".join(lines) == word
    # full lines are full: one more character would not have fitted
    for line, nxt in zip(lines, lines[1:]):
        assert layout.text_width(font, line + nxt[0]) > 126


def test_wrap_composes_decomposed_hangul(font):
    nfd = unicodedata.normalize("NFD", "오늘 기분이")
    assert layout.wrap(nfd, font, 126) == ["오늘 기분이"]


def test_wrap_of_blank_text_is_empty(font):
    assert layout.wrap("  ", font, 126) == []


def test_scroll_offset_pauses_moves_pauses_and_starts_over():
    # 30 px too long, 20 px/s, 1.5 s pauses: still 0-1.5 s, moving 1.5-3 s, at the end 3-4.5 s
    f = lambda t: layout.scroll_offset(t, 30, 20.0, 1.5)  # noqa: E731
    assert [f(t) for t in (0.0, 0.7, 1.49)] == [0, 0, 0]
    assert [f(t) for t in (1.5, 2.0, 2.5, 2.95)] == [0, 10, 20, 29]
    assert [f(t) for t in (3.0, 3.5, 4.49)] == [30, 30, 30]
    assert [f(t) for t in (4.5, 5.0, 6.5)] == [0, 0, 10]
    series = [f(i / 100) for i in range(450)]
    assert series == sorted(series) and max(series) == 30


def test_scroll_offset_is_zero_when_the_text_fits():
    assert {layout.scroll_offset(t / 10, 0, 20.0, 1.5) for t in range(100)} == {0}


def test_geometry_keeps_whole_lines_above_the_tag_row(font):
    geo = layout.geometry((128, 64), font)
    assert (geo.line_h, geo.text_h, geo.rule_y, geo.tag_y, geo.tag_h) == (16, 47, 47, 49, 15)
    assert geo.text_w == 128 - 2 * MARGIN
    assert layout.geometry((128, 32), font).text_h == 15
    assert layout.overflow(3, geo) == 0 and layout.overflow(5, geo) == 32


def test_geometry_too_small_for_text_and_tag_names_the_key(font):
    with pytest.raises(ConfigError, match=r"\[display\] font_size"):
        layout.geometry((128, 16), font)


def test_missing_font_names_the_key(tmp_path):
    with pytest.raises(ConfigError, match=r"\[display\] font: font file .*nope.ttf not found"):
        layout.load_font(str(tmp_path / "nope.ttf"), 13)


def test_not_a_font_names_the_key(tmp_path):
    bad = tmp_path / "bad.ttf"
    bad.write_text("not a font")
    with pytest.raises(ConfigError, match=r"\[display\] font: .*not a readable TrueType"):
        layout.load_font(str(bad), 13)


def test_font_without_hangul_is_refused():
    if not Path(DEJAVU).is_file():
        pytest.skip("DejaVuSans is not installed")
    with pytest.raises(ConfigError, match=r"\[display\] font: .*no Hangul"):
        layout.load_font(DEJAVU, 13)


def test_fit_font_shrinks_the_tag_until_it_fits(font):
    small = layout.fit_font(font, "[happiness]", 46)
    assert small.size < font.size and layout.text_width(small, "[happiness]") <= 46
    assert layout.fit_font(font, "[fear]", 100) is font


def caption(text="오늘 기분이 좋아보이네요", emotion="happiness"):
    return Caption(text=text, emotion=emotion, confidence=0.9, model="small",
                   t_start=0.0, t_end=1.0, latency_ms=5.0)


def test_screen_holds_a_caption_before_the_next_partial():
    screen = Screen(hold_s=3.0)
    first = caption()
    screen.offer(first, now=10.0)
    screen.offer(Partial("다음"), now=11.0)
    assert screen.shown.event is first and screen.wake_at() == 13.0
    screen.offer(Partial("다음 말"), now=12.0)  # the newest partial replaces the waiting one
    screen.tick(now=12.9)
    assert screen.shown.event is first
    screen.tick(now=13.0)
    assert screen.shown.event == Partial("다음 말", screen.shown.event.t_mono_ns)
    assert screen.shown.since == 13.0 and screen.wake_at() is None


def test_screen_caption_replaces_partial_at_once_and_ignores_empty_partials():
    screen = Screen(hold_s=3.0)
    screen.offer(Partial("오늘"), now=1.0)
    screen.offer(Partial(""), now=1.1)
    assert screen.shown.event.text == "오늘"
    final = caption()
    screen.offer(final, now=1.2)
    assert screen.shown.event is final and screen.shown.since == 1.2
    screen.offer(Partial(" "), now=9.0)
    assert screen.shown.event is final


def test_screen_same_partial_text_keeps_its_clock():
    screen = Screen(hold_s=0.0)
    screen.offer(Partial("오늘"), now=1.0)
    screen.offer(Partial("오늘"), now=2.0)
    assert screen.shown.since == 1.0
