"""splits/ser_split_v2.json: the old split plus the 20 new CREMA-D actors, by speaker, sexes balanced."""
import csv
import json

from emocap_train import make_split
from conftest import ROOT

PARTS = ("train", "validation", "test")


def test_v2_is_the_tools_output_and_extends_v1_without_moving_anyone(shared_data, tmp_path):
    out = tmp_path / "v2.json"
    assert make_split.main(["--base", str(ROOT / "splits/ser_split.json"), "--manifest",
                            str(shared_data / "ser/manifest.csv"), "--out", str(out)]) == 0
    v1 = json.loads((ROOT / "splits/ser_split.json").read_text())
    v2 = json.loads((ROOT / "splits/ser_split_v2.json").read_text())
    assert json.loads(out.read_text()) == v2  # the committed file is what the tool makes
    for p in PARTS:
        assert set(v1[p]["speakers"]) <= set(v2[p]["speakers"])
    speakers = [s for p in PARTS for s in v2[p]["speakers"]]
    assert len(speakers) == len(set(speakers))  # disjoint parts
    with open(shared_data / "ser/manifest.csv", encoding="utf-8") as f:
        sex = {r["speaker"]: r["gender"] for r in csv.DictReader(f)}
    added = v2["made_by"]["added"]
    assert {p: len(added[p]) for p in PARTS} == {"train": 12, "validation": 4, "test": 4}
    assert set(sex) <= set(speakers)  # every speaker of the pool is in some part now
    for p in PARTS:
        sexes = [sex[s] for s in added[p]]
        assert sexes.count("m") == sexes.count("f")


def test_leave_one_corpus_out_split_holds_the_corpus_out_whole(shared_data, tmp_path):
    from emocap_train import serdata

    out = tmp_path / "loco.json"
    manifests = [str(shared_data / "ser/manifest.csv"), str(shared_data / "asr/ko/emotion.csv")]
    args = ["--base", str(ROOT / "splits/ser_split_v2.json"), "--out", str(out), "--leave-out", "crema-d"]
    assert make_split.main(args + [a for m in manifests for a in ("--manifest", m)]) == 0
    split = serdata.load_split(out)
    clips = [c for m in manifests for c in serdata.read_manifest(m)]
    test, train = serdata.select(clips, split, "test"), serdata.select(clips, split, "train")
    assert {c.corpus for c in test} == {"crema-d"} and len(test) == 3268  # all 40 actors, every clip
    assert "crema-d" not in {c.corpus for c in train + serdata.select(clips, split, "validation")}


def test_korean_halves_hold_out_new_speakers_and_sentences(shared_data, tmp_path):
    from emocap_train import serdata

    manifests = [str(shared_data / "ser/manifest.csv"), str(shared_data / "asr/ko/emotion.csv")]
    clips = [c for m in manifests for c in serdata.read_manifest(m)]
    with open(shared_data / "asr/ko/emotion.csv", encoding="utf-8") as f:
        sex = {r["speaker"]: r["gender"] for r in csv.DictReader(f)}
    tests = []
    for k in (1, 2):
        out = tmp_path / f"half{k}.json"
        args = ["--base", str(ROOT / "splits/ser_split_v2.json"), "--out", str(out), "--hold-out", f"emotiontts-ko:{k}"]
        assert make_split.main(args + [a for m in manifests for a in ("--manifest", m)]) == 0
        split = serdata.load_split(out)
        test, train = serdata.select(clips, split, "test"), serdata.select(clips, split, "train")
        val = serdata.select(clips, split, "validation")
        held = {c.speaker for c in test}
        assert {c.corpus for c in test} == {"emotiontts-ko"} and len(held) == 5
        assert {sex[s] for s in held} == {"f", "m"}  # both sexes in each half
        assert {serdata.sentence_id(c) for c in test} == {4, 5}  # 5 speakers x 4 emotions x 2 sentences
        assert len(test) == 40
        ko_train = [c for c in train if c.corpus == "emotiontts-ko"]
        assert {c.speaker for c in ko_train} == set(sex) - held  # the other half trains
        assert {serdata.sentence_id(c) for c in ko_train} == {1, 2, 3}  # and never on a test sentence
        assert "emotiontts-ko" not in {c.corpus for c in val}
        assert {c.corpus for c in train} == {"crema-d", "ravdess", "emotiontts-ko"}
        tests.append(held)
    assert tests[0].isdisjoint(tests[1]) and tests[0] | tests[1] == set(sex)


def test_hold_out_names_what_it_expects(tmp_path, shared_data):
    import pytest

    args = ["--base", str(ROOT / "splits/ser_split_v2.json"), "--out", str(tmp_path / "x.json"),
            "--manifest", str(shared_data / "asr/ko/emotion.csv"), "--hold-out", "emotiontts-ko:3"]
    with pytest.raises(SystemExit, match="expected CORPUS:1 or CORPUS:2"):
        make_split.main(args)


def test_validation_speakers_can_read_the_training_scripts(shared_data):
    """evaluate.py --sentences 1 2 3: the validation speakers' clips of the training scripts (the
    Korean scripts are written per emotion, so a model may learn a script rather than a voice)."""
    from emocap_train import serdata

    clips = serdata.read_manifest(shared_data / "asr/ko/emotion.csv")
    split = serdata.load_split(ROOT / "splits/ser_split_v2.json")
    usual = serdata.select(clips, split, "validation")
    seen = serdata.select(clips, serdata.with_sentences(split, "validation", [1, 2, 3]), "validation")
    assert {serdata.sentence_id(c) for c in usual} == {4, 5}
    assert {serdata.sentence_id(c) for c in seen} == {1, 2, 3}
    assert {c.speaker for c in seen} == {c.speaker for c in usual}  # the same two speakers
    assert len(seen) == 24 and split["validation"]["sentences"] == {"emotiontts-ko": [4, 5]}  # not changed in place
