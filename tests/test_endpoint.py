"""Endpoint rules from config: our trailing-silence rules in model.conf, in a temporary copy
of the model folder that Vosk really loads (emocap/vosk_conf.py)."""
import numpy as np

from emocap import asr, endpoint, vosk_conf

CONF = """--min-active=200
--beam=10.0
--endpoint.silence-phones=1:2:3
--endpoint.rule2.min-trailing-silence=0.5
--endpoint.rule3.min-trailing-silence=1.0
--endpoint.rule4.min-trailing-silence=2.0
"""


def test_our_rules_replace_the_three_silence_rules_and_keep_the_rest():
    out = vosk_conf.with_options(CONF, endpoint.rule_lines(0.2)).splitlines()
    assert out[:3] == ["--min-active=200", "--beam=10.0", "--endpoint.silence-phones=1:2:3"]
    assert out[3:] == ["--endpoint.rule2.min-trailing-silence=0.2", "--endpoint.rule3.min-trailing-silence=0.4",
                       "--endpoint.rule4.min-trailing-silence=0.8"]
    added = vosk_conf.with_options("--beam=10.0", endpoint.rule_lines(0.3))  # added where absent
    assert added.count("min-trailing-silence") == 3


def test_the_copy_links_the_model_and_is_removed_after_loading(shared_data):
    model = asr.model_dir("")
    with vosk_conf.model_folder(model, 0.25) as folder:
        assert (folder / "am" / "final.mdl").resolve() == (model / "am" / "final.mdl").resolve()
        assert "rule2.min-trailing-silence=0.25" in (folder / "conf" / "model.conf").read_text()
        assert (folder / "conf" / "mfcc.conf").resolve() == (model / "conf" / "mfcc.conf").resolve()  # dither as the model's
    assert not folder.exists()
    assert "rule2.min-trailing-silence=0.5" in (model / "conf" / "model.conf").read_text()  # untouched


def test_vosk_loads_and_decodes_from_the_copy(shared_data):
    """The real recogniser with short rules: a sentence and then silence closes on its own."""
    from emocap.audio.files import load_audio
    x = load_audio(shared_data / "asr/ko/emotiontts/Emotional/emotional-to-emotional/nea/nea00001.flac")
    rec = asr.Recognizer(asr.model_dir(""), 16000, endpoint_silence_s=0.2)
    pcm = np.concatenate([x, np.zeros(16000 * 3, dtype=np.int16)]).tobytes()
    utts = [u for i in range(0, len(pcm), 8000) if (u := rec.accept(pcm[i : i + 8000]))]
    assert len(utts) == 1 and "심폐소생술" in utts[0].text.replace(" ", "")
    assert rec.finals == 1
