"""The read-back transcript: append, rotation by size and by age, restart, disk errors,
`emocap transcript --since/--format`, SRT against a hand-written file, and `emocap run` writing it."""
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import soundfile as sf

from emocap.audio.files import load_audio
from emocap.captions import Caption
from conftest import ROOT
from emocap.config import TranscriptConfig
from emocap.transcript import export, store
from emocap.transcript.sink import TranscriptSink

DATA = Path(__file__).parent / "data"
ENV = dict(os.environ, PYTHONPATH=str(ROOT / "daemon"))


def caption(i: int, text: str = "오늘 기분이 좋아 보이네요") -> Caption:
    return Caption(text=f"{text} {i}", emotion="happiness" if i % 2 else None, confidence=0.75, model="small",
                   t_start=2.0 * i, t_end=2.0 * i + 1.5, latency_ms=3.0)


class Clock:
    def __init__(self, t: float = 1_780_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def write(cfg: TranscriptConfig, n: int, clock=time.time, start: int = 0) -> TranscriptSink:
    sink = TranscriptSink(cfg, clock=clock)
    for i in range(start, start + n):
        sink.caption(caption(i))
    sink.close()
    return sink


def test_every_caption_is_appended_as_one_json_line(tmp_path):
    path = tmp_path / "state" / "transcript.jsonl"  # the folder is created
    sink = write(TranscriptConfig(path=str(path)), 5)
    assert sink.written == 5 and sink.dropped == sink.failed == 0
    lines = [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines()]
    assert [e["text"] for e in lines] == [f"오늘 기분이 좋아 보이네요 {i}" for i in range(5)]
    first = lines[1]
    assert set(first) == {"wall", "run", "t_start", "t_end", "text", "emotion", "confidence", "shown"}
    assert (first["t_start"], first["t_end"], first["emotion"], first["confidence"]) == (2.0, 3.5, "happiness", 0.75)
    assert first["shown"] is True and lines[0]["shown"] is False  # untagged: nothing was shown
    assert abs(store.wall_s(first) - time.time()) < 60


def test_a_restarted_writer_appends_to_the_same_file(tmp_path):
    cfg = TranscriptConfig(path=str(tmp_path / "t.jsonl"))
    write(cfg, 3)
    write(cfg, 2, start=3)
    entries, bad = store.read(Path(cfg.path))
    assert bad == 0 and [e["text"][-1] for e in entries] == list("01234")
    assert len({e["run"] for e in entries}) == 2  # each run named, so SRT can place its spans
    assert store.all_files(Path(cfg.path)) == [Path(cfg.path)]


def test_rotation_by_size_keeps_the_newest_within_max_mb(tmp_path):
    path = tmp_path / "t.jsonl"
    cfg = TranscriptConfig(path=str(path), max_mb=0.01)  # 10 kB: rotates every 2.5 kB
    write(cfg, 200)  # ~28 kB of entries
    files = store.all_files(path)
    assert len(files) >= 3 and files[-1] == path and store.rotated_files(path) == files[:-1]
    assert sum(f.stat().st_size for f in files) <= 10_000
    entries, _ = store.read(path)
    texts = [e["text"] for e in entries]
    assert texts[-1].endswith(" 199") and not any(t.endswith(" 0") for t in texts)  # oldest went first
    numbers = [int(t.rsplit(" ", 1)[1]) for t in texts]
    assert numbers == list(range(numbers[0], 200))  # what is kept is contiguous and in order


def test_rotation_by_age_deletes_files_older_than_keep_days(tmp_path):
    path, clock = tmp_path / "t.jsonl", Clock()
    cfg = TranscriptConfig(path=str(path), keep_days=2.0)
    t0 = clock.t
    write(cfg, 3, clock)
    clock.t = t0 + 1.5 * 86400  # the active file's first entry is over a day old: it rotates
    write(cfg, 1, clock, start=3)
    (first,) = store.rotated_files(path)
    os.utime(first, (t0, t0))  # file times as the test clock would have left them
    os.utime(path, (clock.t, clock.t))
    clock.t = t0 + 2.6 * 86400  # the first file was last written 2.6 days ago, the second 1.1
    write(cfg, 1, clock, start=4)
    assert not first.exists()
    assert len(store.rotated_files(path)) == 1  # the day-old active file, rotated and kept
    entries, _ = store.read(path)
    assert [e["text"][-1] for e in entries] == ["3", "4"]


def test_a_disk_error_is_one_log_line_and_captions_go_on(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    sink = TranscriptSink(TranscriptConfig(path=str(blocker / "t.jsonl")))
    with caplog.at_level(logging.WARNING, logger="emocap.transcript.sink"):
        t0 = time.monotonic()
        for i in range(20):
            sink.caption(caption(i))
        assert time.monotonic() - t0 < 1.0  # caption() never waits for the disk
        sink.close()
    assert sink.failed == 20 and sink.written == 0
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(blocker) in warnings[0].getMessage()


def transcript_cli(cfg_file: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "emocap.cli", "transcript", "--config", str(cfg_file), *args],
                          capture_output=True, text=True, env=ENV, timeout=60)


def config_file(tmp_path: Path, path: Path) -> Path:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[transcript]\npath = "{path}"\n')
    return cfg


def test_since_keeps_only_the_recent_entries(tmp_path):
    path = tmp_path / "t.jsonl"
    now = time.time()
    with open(path, "w", encoding="utf-8") as f:
        for age_min, text in ((90, "옛날 이야기"), (20, "조금 전"), (4, "방금 전")):
            e = {"wall": store.wall_iso(now - age_min * 60), "run": "r", "t_start": 0.0, "t_end": 1.0, "text": text,
                 "emotion": None, "confidence": 0.0, "shown": False}
            f.write(json.dumps(e, ensure_ascii=False) + "\n")
    cfg = config_file(tmp_path, path)
    recent = transcript_cli(cfg, "--since", "10m", "--format", "json")
    assert recent.returncode == 0, recent.stderr
    assert [json.loads(l)["text"] for l in recent.stdout.splitlines()] == ["방금 전"]
    hour = transcript_cli(cfg, "--since", "1h")
    assert [l.split("  ", 1)[1] for l in hour.stdout.splitlines()] == ["조금 전", "방금 전"]
    assert len(transcript_cli(cfg).stdout.splitlines()) == 3
    bad = transcript_cli(cfg, "--since", "yesterday")
    assert bad.returncode == 2 and "expected a duration" in bad.stderr


def test_srt_export_matches_the_hand_written_file(tmp_path):
    """Two runs (a restart at 10:05): spans within each, wall clock between them."""
    path = tmp_path / "t.jsonl"
    path.write_bytes((DATA / "transcript_two_runs.jsonl").read_bytes())
    r = transcript_cli(config_file(tmp_path, path), "--format", "srt")
    assert r.returncode == 0, r.stderr
    assert r.stdout == (DATA / "transcript_two_runs.srt").read_text(encoding="utf-8")


def test_runs_are_never_overlapped_and_old_lines_without_run_split_on_spans():
    rows = [{"wall": store.wall_iso(1000.0 + i), "t_start": t, "t_end": t + 1.0, "text": str(i)}
            for i, t in enumerate((0.0, 30.0, 0.0))]  # a fast replay: spans run ahead of wall time
    times = [(a, b) for a, b, _ in export.timeline(rows)]
    assert len(export.runs(rows)) == 2
    assert times[:2] == [(0.0, 1.0), (30.0, 31.0)] and times[2][0] >= 31.0


def test_a_missing_transcript_prints_nothing_and_says_so(tmp_path):
    r = transcript_cli(config_file(tmp_path, tmp_path / "none.jsonl"))
    assert r.returncode == 0 and r.stdout == "" and "no transcript" in r.stderr


def test_run_appends_its_captions_to_the_transcript(shared_data, tmp_path):
    clip = tmp_path / "short.wav"
    sf.write(clip, load_audio(shared_data / "asr/ko/emotiontts/Main/main/kih/kih00003.flac")[: 16000 * 4], 16000)
    path = tmp_path / "state" / "transcript.jsonl"
    cfg = tmp_path / "run.toml"
    cfg.write_text(f'[audio]\nsource = "file"\ndemo_file = "{clip}"\n[emotion]\nsmall_model = "{ROOT}/models/small.onnx"\n'
                   f'large_model = "{ROOT}/models/large.onnx"\n[perf]\nlog_path = "{tmp_path}/perf.jsonl"\n'
                   f'journald = false\n[transcript]\npath = "{path}"\n')
    run = subprocess.run([sys.executable, "-m", "emocap.cli", "run", "--config", str(cfg)], capture_output=True,
                         text=True, env=ENV, timeout=180)
    assert run.returncode == 0, run.stderr
    shown = [l.split(" s  ", 1)[1] for l in run.stdout.splitlines() if " s  " in l]
    entries, _ = store.read(path)
    assert shown and len(entries) == len(shown)
    assert all(line.startswith(e["text"]) for line, e in zip(shown, entries))
    r = transcript_cli(cfg, "--format", "srt")
    assert r.returncode == 0 and entries[0]["text"] in r.stdout and r.stdout.startswith("1\n00:00:00,000 --> ")
