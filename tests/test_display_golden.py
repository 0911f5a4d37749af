"""Golden images: what the wearer sees, pinned pixel for pixel.

The PNGs in tests/golden/ were rendered by this code and checked by eye. A change that moves
one pixel fails here; when the change is intended, regenerate on purpose and look at them:

    EMOCAP_REGEN_GOLDEN=1 /work/venv/bin/python -m pytest tests/test_display_golden.py

Frames depend on FreeType's hinting, so the golden files pin Pillow's bundled FreeType as
well as this code; a Pillow upgrade that changes glyph rasterisation shows up here first.
"""
import os
from pathlib import Path

import pytest
from PIL import Image

from emocap.captions import Caption, Partial
from conftest import ROOT
from emocap.config import DisplayConfig
from emocap.display import icons
from emocap.display.render import make_style, render
from emocap.emotion.model import EmotionModel

GOLDEN = Path(__file__).parent / "golden"
NANUM = "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"
REGEN = os.environ.get("EMOCAP_REGEN_GOLDEN") == "1"
# The label set is the models' own (their metadata); every label the model names has an icon.
LABELS = EmotionModel(ROOT / "models" / "small.onnx").labels
LONG_KO = "지금 몇 시인지 알려 주실 수 있나요 회의가 곧 시작하는데 늦을 것 같아서 걱정이에요"


def caption(text: str, emotion: str | None, shown: bool = True) -> Caption:
    return Caption(text=text, emotion=emotion, confidence=0.9 if shown else 0.4, model="small",
                   t_start=0.0, t_end=1.0, latency_ms=5.0, shown=shown)


@pytest.fixture(scope="module")
def style():
    if not Path(NANUM).is_file():
        pytest.skip("fonts-nanum is not installed")
    # Pinned here, not read from config.toml, so a changed default does not move the goldens.
    return make_style(DisplayConfig(device="dummy", width=128, height=64, font=NANUM,
                                    font_size=13, scroll_px_s=20.0, scroll_pause_s=1.5))


def check_golden(image: Image.Image, name: str, tmp_path: Path) -> None:
    path = GOLDEN / f"{name}.png"
    assert image.mode == "1"
    if REGEN:
        GOLDEN.mkdir(exist_ok=True)
        image.save(path)
    assert path.is_file(), f"{path} missing; render it with EMOCAP_REGEN_GOLDEN=1 and check it by eye"
    want = Image.open(path).convert("1")
    if want.size != image.size or want.tobytes() != image.tobytes():
        got = tmp_path / f"{name}.png"
        image.save(got)
        diff = sum(bin(a ^ b).count("1") for a, b in zip(want.tobytes(), image.tobytes()))
        pytest.fail(f"{name}: rendered frame differs from {path} ({diff} pixels, size "
                    f"{image.size} vs {want.size}); the new one is at {got}")


CASES = {
    "caption_ko": (caption("오늘 기분이 좋아보이네요", "happiness"), 0.0),
    "caption_en": (caption("Where did you put the keys? I can't find them", "neutral"), 0.0),
    # 4 lines, 16 px too long: 2.0 s is 0.5 s into the scroll at 20 px/s, so 10 px up
    "caption_scroll_2s": (caption(LONG_KO, "fear"), 2.0),
    "partial_ko": (Partial("지금 몇 시인지 알려 주실 수 있나요 회의가 곧 시작하는데"), 0.0),
    "caption_untagged": (caption("음", None), 0.0),
    # Vosk's output for asr/ko/.../nea00001.flac, spaced by kiwipiepy (tests/test_spacing.py
    # checks that the spacer makes this text); Vosk's own spacing was "취득 을 원 시면 인터넷 으로"
    "caption_ko_spaced": (caption("심폐소생술 자격증 취득을 원 시면 인터넷으로 신창 AS 세요", "neutral"), 0.0),
    # under [emotion] show_confidence: text only, no icon, no [label]
    "caption_unsure": (caption("오늘 기분이 좋아보이네요", "happiness", shown=False), 0.0),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_frame_matches_golden(style, name, tmp_path):
    event, elapsed = CASES[name]
    check_golden(render(event, elapsed, style), name, tmp_path)


@pytest.mark.parametrize("label", LABELS)
def test_icon_matches_golden(label, tmp_path):
    check_golden(icons.icon(label), f"icon_{label}", tmp_path)


def test_icons_are_distinct_and_drawn_for_every_label():
    drawn = [icons.icon(label) for label in LABELS]
    assert all(img.size == (icons.ICON, icons.ICON) and img.getbbox() for img in drawn)
    assert len({img.tobytes() for img in drawn}) == len(LABELS)
    assert icons.icon("not-a-label") is None


def test_different_text_or_label_gives_a_different_frame(style):
    """The goldens are not vacuous: text, label, scroll time and partial all show."""
    base = render(caption("오늘 기분이 좋아보이네요", "happiness"), 0.0, style)
    assert base.getbbox() is not None
    others = [
        render(caption("오늘 기분이 좋아보여요", "happiness"), 0.0, style),
        render(caption("오늘 기분이 좋아보이네요", "sadness"), 0.0, style),
        render(caption("오늘 기분이 좋아보이네요", None), 0.0, style),
        render(Partial("오늘 기분이 좋아보이네요"), 0.0, style),
    ]
    assert all(img.tobytes() != base.tobytes() for img in others)
    start, mid = (render(caption(LONG_KO, "fear"), t, style) for t in (0.0, 2.0))
    assert start.tobytes() != mid.tobytes()


def test_short_caption_does_not_move(style):
    event = caption("오늘 기분이 좋아보이네요", "happiness")
    assert render(event, 0.0, style).tobytes() == render(event, 7.3, style).tobytes()


def test_tag_row_shows_the_label_in_every_frame_of_a_scroll(style):
    """Whatever the scroll offset, the tag row (below the rule) is the same pixels."""
    geo = style.geo
    rows = {render(caption(LONG_KO, "fear"), t / 4, style).crop((0, geo.rule_y, geo.width, geo.height)).tobytes()
            for t in range(40)}
    assert len(rows) == 1


def test_unsure_caption_draws_no_tag(style):
    """Below show_confidence the tag row is empty: the frame is the untagged caption's."""
    text = "오늘 기분이 좋아보이네요"
    unsure = render(caption(text, "happiness", shown=False), 0.0, style)
    assert unsure.tobytes() == render(caption(text, None), 0.0, style).tobytes()
    assert unsure.tobytes() != render(caption(text, "happiness"), 0.0, style).tobytes()
    geo = style.geo
    tag_row = unsure.crop((0, geo.rule_y + 1, geo.width, geo.height))
    assert tag_row.getbbox() is None  # not one pixel of icon or label
