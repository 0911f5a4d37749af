"""asr_cer --score: a saved replay's captions mapped back to the manifest's files by time."""
import json

from emocap_train import asr_cer


def test_saved_captions_are_scored_per_file(shared_data, tmp_path):
    rows = asr_cer.read_manifest(shared_data / "asr/ko/manifest.csv", 2)
    first_s = len(asr_cer.load_audio(rows[0]["file"])) / 16000
    caps = [{"t_start": 0.5, "text": rows[0]["text"]}, {"t_start": first_s + 0.5, "text": rows[1]["text"]}]
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in caps) + "\n")
    exact = asr_cer.score_saved(path, rows)["pipeline"]
    assert exact["cer"] == 0 and exact["wer"] == 0 and exact["captions"] == 2
    caps[1]["t_start"] = first_s - 0.5  # the second file's text now lands on the first
    path.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in caps) + "\n")
    moved = asr_cer.score_saved(path, rows)["pipeline"]
    second = asr_cer.cer.errors(rows[1]["text"], "")[1]  # its characters: deleted there, inserted in the first
    assert moved["char_errors"] == 2 * second and moved["ref_chars"] == exact["ref_chars"]


def test_first_shown_reads_an_early_text_where_one_showed_the_utterance_whole():
    from emocap_train.asr_cer import first_shown
    caps = [[{"text": "신청해주세요", "early_text": "신청해 주세여"}, {"text": "네", "early_text": None}], []]
    assert first_shown(caps) == ["신청해 주세여 네", ""]
    assert first_shown([[{"text": "네"}]]) is None  # no early captions: nothing to add
