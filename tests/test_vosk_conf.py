"""[asr] dither: Kaldi's --dither in the mfcc.conf of the model's runtime folder, and with it
at 0 the real Vosk model decodes a clip identically every time (words, times, confidences)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from emocap import asr, config, vosk_conf
from emocap.errors import ModelError

HERE = Path(__file__).resolve().parent
CLIP = "asr/ko/emotiontts/Emotional/emotional-to-emotional/nea/nea00001.flac"
MFCC = "--use-energy=false\n--num-mel-bins=40\n"


def model(tmp_path: Path, mfcc: str = MFCC) -> Path:
    (tmp_path / "conf").mkdir(parents=True)
    (tmp_path / "am").mkdir()
    (tmp_path / "conf" / "mfcc.conf").write_text(mfcc)
    (tmp_path / "conf" / "model.conf").write_text("--beam=10.0\n")
    return tmp_path


def test_dither_of_reads_the_model_or_kaldis_default():
    assert vosk_conf.dither_of(MFCC) == vosk_conf.KALDI_DITHER == 1.0
    assert vosk_conf.dither_of(MFCC + "--dither=0.5\n") == 0.5


def test_only_the_files_that_differ_are_rewritten(tmp_path):
    path = model(tmp_path)
    assert vosk_conf.rewritten(path) == {}  # Kaldi's dither, the model's rules
    assert vosk_conf.rewritten(path, dither=0.0) == {"mfcc.conf": MFCC + "--dither=0\n"}
    both = vosk_conf.rewritten(path, silence_s=0.3, dither=2.5)
    assert sorted(both) == ["mfcc.conf", "model.conf"] and both["mfcc.conf"].endswith("\n--dither=2.5\n")
    own = model(tmp_path / "own", MFCC + "--dither=0.0\n")
    assert vosk_conf.rewritten(own, dither=0.0) == {}
    assert vosk_conf.rewritten(own)["mfcc.conf"] == MFCC + "--dither=1\n"  # one --dither line, ours


def test_the_folder_links_all_but_our_mfcc_conf(tmp_path):
    path = model(tmp_path / "m")
    (path / "am" / "final.mdl").write_text("x")
    with vosk_conf.model_folder(path, dither=0.0) as folder:
        assert folder != path and (folder / "am").resolve() == (path / "am").resolve()
        assert (folder / "conf" / "model.conf").resolve() == (path / "conf" / "model.conf").resolve()
        assert not (folder / "conf" / "mfcc.conf").is_symlink()
        assert (folder / "conf" / "mfcc.conf").read_text().splitlines()[-1] == "--dither=0"
    assert not folder.exists() and (path / "conf" / "mfcc.conf").read_text() == MFCC  # untouched
    with vosk_conf.model_folder(path) as folder:
        assert folder == path


def test_an_unreadable_conf_is_one_line_naming_it(tmp_path):
    path = model(tmp_path)
    (path / "conf" / "mfcc.conf").write_bytes(b"\xff\xfe--dither")
    with pytest.raises(ModelError, match=r"mfcc\.conf: cannot read"):
        vosk_conf.rewritten(path, dither=0.0)


def decodes(shared_data: Path, dither: float) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(HERE.parent / "daemon"))
    return subprocess.Popen([sys.executable, str(HERE / "vosk_repeat.py"), str(shared_data / CLIP), str(dither)],
                            stdout=subprocess.PIPE, text=True, env=env)


def test_without_dither_every_decode_is_identical(shared_data):
    """Two processes, two fresh recognisers each: at dither 0 all four results are identical;
    at Kaldi's default the same two decodes in one process differ (so the check can fail)."""
    runs = [decodes(shared_data, d) for d in (0.0, 0.0, vosk_conf.KALDI_DITHER)]
    out = [p.communicate(timeout=300)[0].splitlines() for p in runs]
    assert all(p.returncode == 0 for p in runs)
    off = out[0] + out[1]
    words = json.loads(off[0])[-1]["result"]
    assert len(off) == 4 and len(set(off)) == 1 and len(words) > 5 and words[0]["start"] > 0
    assert out[2][0] != out[2][1]


def test_the_shipped_config_decodes_the_packaged_model_without_dither(shared_data):
    dither = config.load().asr.dither
    assert dither == 0.0
    assert vosk_conf.rewritten(asr.model_dir(""), dither=dither)["mfcc.conf"].endswith("\n--dither=0\n")
