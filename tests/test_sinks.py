"""Terminal live view and JSON lines sink."""
import io
import json

from emocap.captions import Caption, Partial
from emocap.display.terminal import JsonSink, TerminalSink, tail_fitting

CAP = Caption(text="오늘 기분이 좋아보이네요", emotion="happiness", confidence=0.8123456, model="small", t_start=1.0,
              t_end=2.5, latency_ms=12.345, emoji="😊")


def test_live_view_updates_partial_in_place_then_prints_the_final():
    out = io.StringIO()
    sink = TerminalSink(out, live=True)
    sink.partial(Partial("오늘"))
    sink.partial(Partial("오늘 기분이"))
    sink.caption(CAP)
    sink.close()
    text = out.getvalue()
    assert text.count("\r\x1b[2K") == 3  # two partial redraws, one clear before the final
    assert text.endswith("오늘 기분이 좋아보이네요 😊 [happiness]  (0.81 small)\n")
    assert "\n" not in text[: text.rindex("\r")]  # partials never scrolled the terminal


def test_non_terminal_output_gets_finals_only():
    out = io.StringIO()
    sink = TerminalSink(out)  # StringIO is not a tty
    sink.partial(Partial("오늘"))
    sink.caption(CAP)
    assert out.getvalue() == "   1.00-   2.50 s  오늘 기분이 좋아보이네요 😊 [happiness]  (0.81 small)\n"


def test_untagged_caption_shows_text_only():
    out = io.StringIO()
    TerminalSink(out).caption(Caption("네", None, 0.0, None, 3.0, 3.2, 1.0))
    assert out.getvalue().rstrip().endswith("s  네")


def test_caption_under_show_confidence_is_text_only_and_says_so():
    from dataclasses import replace

    unsure = replace(CAP, confidence=0.41, shown=False)
    out = io.StringIO()
    TerminalSink(out).caption(unsure)
    line = out.getvalue()
    assert "[happiness]" not in line and "😊" not in line
    assert line.startswith("   1.00-   2.50 s  오늘 기분이 좋아보이네요  (0.41 small)")
    out = io.StringIO()
    JsonSink(out).caption(unsure)
    got = json.loads(out.getvalue())
    assert got["shown"] is False and got["emotion"] == "happiness" and got["confidence"] == 0.41


def test_json_lines_are_the_contract_fields():
    out = io.StringIO()
    sink = JsonSink(out)
    sink.partial(Partial("ignored"))
    sink.caption(CAP)
    (line,) = out.getvalue().splitlines()
    assert json.loads(line) == {"t_start": 1.0, "t_end": 2.5, "text": "오늘 기분이 좋아보이네요", "emotion": "happiness",
                                "confidence": 0.8123, "model": "small", "latency_ms": 12.35,
                                "shown": True,
                                # the wearer's waits follow; unknown without the audio clock
                                "end_to_caption_ms": None, "end_to_shown_ms": None, "onset_to_partial_ms": None,
                                "end_to_close_audio_ms": None, "early_text": None}
    assert "오늘" in line  # UTF-8, not \\u escapes


def test_partial_tail_fits_double_width_hangul():
    assert tail_fitting("가나다라", 5) == "다라"  # two cells each
    assert tail_fitting("abc가", 4) == "bc가"
