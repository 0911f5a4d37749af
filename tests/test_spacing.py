"""Korean spacing: words come back together, characters never change, English and digits
survive, and the service falls back to Vosk's spacing when kiwipiepy is missing.

tests/data/vosk_ko_sample.jsonl holds real Vosk outputs (the pipeline's captions of the first
40 files of ../shared/data/asr/ko, with spacing off) and their reference texts.
"""
import json
import logging
import re
import sys
from pathlib import Path

import pytest

from emocap_train import cer
from emocap import asr, config, spacing
from emocap.audio.files import load_audio
from emocap.errors import ConfigError

SAMPLE = [json.loads(l) for l in (Path(__file__).parent / "data" / "vosk_ko_sample.jsonl").read_text(
    encoding="utf-8").splitlines()]
# A real Vosk output (nea00001.flac, spacing off), and what the shipped spacer makes of it.
VOSK_NEA00001 = "심폐소생술 자격증 취득 을 원 시면 인터넷 으로 신창 AS 세요"
SPACED_NEA00001 = "심폐소생술 자격증 취득을 원 시면 인터넷으로 신창 AS 세요"


@pytest.fixture(scope="module")
def spacer():
    pytest.importorskip("kiwipiepy")
    return spacing.KiwiSpacing()


def test_every_real_vosk_caption_keeps_its_characters(spacer):
    for row in SAMPLE:
        out = spacer.space(row["vosk"])
        assert cer.normalise(out) == cer.normalise(row["vosk"]), row
        assert out == " ".join(out.split())  # single spaces, none at the ends
    assert spacer.rejected == 0  # Kiwi itself kept them; the guard did not have to


def test_spacing_joins_morphemes_into_words_and_lowers_wer(spacer):
    raw = spaced = 0
    words = {"raw": 0, "spaced": 0}
    n = 0
    for row in SAMPLE:
        out = spacer.space(row["vosk"])
        raw += cer.word_errors(row["ref"], row["vosk"])[0]
        e, m = cer.word_errors(row["ref"], out)
        spaced, n = spaced + e, n + m
        words["raw"] += len(row["vosk"].split())
        words["spaced"] += len(out.split())
    assert words["spaced"] < 0.85 * words["raw"]
    assert spaced < 0.75 * raw, (raw / n, spaced / n)


def test_spaces_are_only_taken_away_from_vosks_never_added(spacer):
    """A word boundary is a morpheme boundary: Kiwi picks which of Vosk's spaces stay."""
    for row in SAMPLE:
        out = spacer.space(row["vosk"])
        assert spacing._boundaries(out) <= spacing._boundaries(row["vosk"]), row
    assert spacing.join_only("세계문화유산 으로 등재 되어", "세계 문화유산으로 등재되어") == "세계문화유산으로 등재되어"
    assert spacing.join_only("a b c", "a bc") == "a bc" and spacing.join_only("ab", "a b") == "ab"


def test_the_golden_caption_text_is_what_the_spacer_makes(spacer):
    assert VOSK_NEA00001 in [r["vosk"] for r in SAMPLE]
    assert spacer.space(VOSK_NEA00001) == SPACED_NEA00001


def tokens(text: str) -> list[str]:
    return re.findall(r"[A-Za-z][A-Za-z']*|\d+(?:[.,]\d+)*", text)


@pytest.mark.parametrize("text", [
    "Where did you put the keys? I can't find them",
    "오늘 3시 30분 에 KTX 타고 서울 가요",
    "iPhone 15 Pro 가 2024년 에 나왔 어요",
    "견치 저크 음식 도 [89] 입안예고 대만 저기압",
    "가격 은 1,250원 이고 2.5 킬로 예요",
    "신창 AS 세요",
])
def test_english_and_digits_come_through_whole(spacer, text):
    out = spacer.space(text)
    assert cer.normalise(out) == cer.normalise(text)
    assert tokens(out) == tokens(text)  # no Latin word or number split, joined to another or lost
    assert all(f" {t} " in f" {out} " or re.search(rf"(?<![A-Za-z0-9]){re.escape(t)}(?![A-Za-z0-9])", out)
               for t in tokens(text))


def test_english_alone_is_left_as_it_was(spacer):
    text = "Where did you put the keys? I can't find them"
    assert spacer.space(text) == text


def test_a_result_that_changes_characters_is_thrown_away(spacer):
    class Mangler:
        def space(self, text, reset_whitespace=False):
            return text.replace("자격증", "자격 증명")

    real, spacer._kiwi = spacer._kiwi, Mangler()
    try:
        before = spacer.rejected
        assert spacer.space(VOSK_NEA00001) == VOSK_NEA00001
        assert spacer.rejected == before + 1
    finally:
        spacer._kiwi = real


def test_none_keeps_vosk_spacing_and_missing_kiwipiepy_falls_back_with_one_line(monkeypatch, caplog):
    assert spacing.make_spacer("none").space(VOSK_NEA00001) == VOSK_NEA00001
    monkeypatch.setitem(sys.modules, "kiwipiepy", None)  # import fails as if not installed
    with caplog.at_level(logging.WARNING, logger="emocap.spacing"):
        fallback = spacing.make_spacer("kiwi")
    assert fallback.name == "none" and fallback.space(VOSK_NEA00001) == VOSK_NEA00001
    assert len(caplog.records) == 1 and "kiwipiepy is not installed" in caplog.records[0].getMessage()


def test_config_names_a_bad_spacing_value(tmp_path):
    bad = tmp_path / "c.toml"
    bad.write_text('[captions]\nspacing = "hanspell"\n')
    with pytest.raises(ConfigError, match=r"\[captions\] spacing: expected one of \['kiwi', 'none'\]"):
        config.load(bad, check_files=False)
    assert config.load(check_files=False).captions.spacing == "kiwi"  # the shipped default


def test_recognizer_spaces_its_finals_and_partials_of_a_real_clip(spacer, shared_data):
    """Live Vosk output of a real clip, through the recogniser boundary the service uses
    (Vosk's partials vary from run to run, so raw and spaced texts are taken from one run)."""
    pcm = load_audio(shared_data / "asr/ko/emotiontts/Emotional/emotional-to-emotional/nea/nea00101.flac")
    seen: dict[str, str] = {}

    def space(text: str) -> str:
        seen[text] = spacer.space(text)
        return seen[text]

    rec = asr.Recognizer(asr.model_dir(""), 16000, space=space)
    finals, partials = [], []
    for i in range(0, len(pcm), 4000):
        u = rec.accept(pcm[i : i + 4000].tobytes())
        finals += [u] if u else []
        p = rec.partial()
        partials += [p] if p else []
    finals += [u for u in [rec.finish()] if u]
    assert finals and partials and set(finals[0].text.split()) <= set(" ".join(seen.values()).split())
    spaced_of = {v: k for k, v in seen.items()}
    for text in [u.text for u in finals] + partials:
        raw = spaced_of[text]  # everything that came out went through the spacer
        assert cer.normalise(raw) == cer.normalise(text)
    raw_final = spaced_of[finals[0].text]
    assert len(finals[0].text.split()) < len(raw_final.split())  # morphemes joined
