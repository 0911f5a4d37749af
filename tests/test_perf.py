"""Performance records, the rotated JSON-lines log, journald fields and the stderr fallback."""
import io
import json
import shutil
import subprocess
import sys
import textwrap
from dataclasses import replace

import pytest

from emocap.config import PerfConfig
from emocap.errors import ConfigError
from emocap.meter import Meter
from emocap.perf import PerfLog, RotatingJsonLines, counters, journal_fields, message, perf_record


def metered() -> Meter:
    m = Meter()
    for ms in (1.0, 2.0, 3.0, 4.0, 10.0):
        m.latency("emotion", ms)
    m.latency("caption", 12.5)
    m.count("frames_captured", 16000)
    m.count("frames_dropped", 320)
    m.count("captions", 2)
    m.count("model_small", 7)
    m.count("model_large", 3)
    m.gauge("ring_fill", 0.25)
    return m


def test_record_holds_interval_latency_and_counter_increases():
    snap = metered().snapshot()
    prev = {"frames_captured": 6000, "frames_dropped": 20, "captions": 2, "model_small": 2}
    rec = perf_record(snap, prev, mode="cascade", cpu_percent=12.5)
    assert rec["event"] == "perf" and rec["mode"] == "cascade" and rec["cpu_percent"] == 12.5
    assert rec["latency_ms"]["emotion"] == {"n": 5, "p50": 3.0, "p95": 8.8, "max": 10.0}
    assert rec["latency_ms"]["caption"] == {"n": 1, "p50": 12.5, "p95": 12.5, "max": 12.5}
    assert (rec["frames_captured"], rec["frames_dropped"], rec["frames_dropped_total"]) == (10000, 300, 320)
    assert (rec["captions"], rec["model_small"], rec["model_large"], rec["mode_switches"]) == (0, 5, 3, 0)
    assert rec["ring_fill"] == 0.25


def test_counts_read_where_they_are_kept():
    kept = {"dropped": 10, "fill": 0.5}
    m = Meter()
    m.read("frames_dropped", lambda: kept["dropped"])  # registered once, read at each snapshot
    m.read("ring_fill", lambda: kept["fill"])
    m.count("captions", 3)
    prev = counters(m.snapshot())
    assert prev == {**dict.fromkeys(prev, 0), "frames_dropped": 10, "captions": 3}
    kept.update(dropped=40, fill=0.125)
    m.count("captions")
    rec = perf_record(m.snapshot(), prev)
    assert (rec["frames_dropped"], rec["frames_dropped_total"], rec["captions"]) == (30, 40, 1)
    assert (rec["ring_fill"], rec["asr_backlog_s"]) == (0.125, 0.0)  # a gauge not read yet is 0
    assert m.snapshot()["gauges"] == {"ring_fill": 0.125} and "frames_dropped" not in m.snapshot()["gauges"]


def test_counts_only_grow_and_each_metric_has_one_source():
    m = Meter()
    with pytest.raises(ValueError, match="only grow"):
        m.count("captions", -1)
    m.read("frames_dropped", lambda: 0)
    with pytest.raises(ValueError, match="already has a source"):
        m.read("frames_dropped", lambda: 1)
    with pytest.raises(ValueError, match="'emotion' is a latency"):
        m.read("emotion", lambda: 1.0)
    with pytest.raises(ValueError, match="'frames_lost' is not named in emocap/metrics.py"):
        m.read("frames_lost", lambda: 1)


def test_journal_fields_are_upper_case_with_units():
    rec = perf_record(metered().snapshot(), {}, mode="small", rss_mb=151.2)
    f = journal_fields(rec)
    assert f["LATENCY_EMOTION_P95_MS"] == "8.8"
    assert f["LATENCY_EMOTION_N"] == "5"
    assert f["LATENCY_CAPTION_MAX_MS"] == "12.5"
    assert f["MODE"] == "small" and f["RSS_MB"] == "151.2" and f["FRAMES_DROPPED"] == "320"
    assert f["EVENT"] == "perf" and f["RING_FILL"] == "0.25" and f["ASR_BACKLOG_S"] == "0.0"
    assert all(k == k.upper() for k in f)


def test_message_is_one_readable_line():
    rec = perf_record(metered().snapshot(), {}, mode="large", cpu_percent=33.0, cpu_idle=0.5, rss_mb=99.6)
    assert message(rec) == ("perf mode=large emotion p95=8.8ms caption p95=12.5ms "
                            "cpu=33% idle=0.50 rss=100MB dropped=320 captions=2")
    assert message({"event": "mode", "mode_from": "large", "mode_to": "cascade", "reason": "cpu idle 0.10 < 0.2"}) \
        == "mode large -> cascade: cpu idle 0.10 < 0.2"


def test_rotation_keeps_backups_and_newest_lines(tmp_path):
    log = RotatingJsonLines(tmp_path / "perf.jsonl", max_bytes=100, backups=2)
    for i in range(12):
        log.write({"i": i, "pad": "x" * 20})  # 40-41 bytes a line: two lines fit in 100 bytes
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["perf.jsonl", "perf.jsonl.1", "perf.jsonl.2"]
    read = lambda n: [json.loads(l)["i"] for l in (tmp_path / n).read_text().splitlines()]
    assert (read("perf.jsonl.2"), read("perf.jsonl.1"), read("perf.jsonl")) == ([6, 7], [8, 9], [10, 11])
    assert all((tmp_path / n).stat().st_size <= 100 for n in names)


def test_rotation_without_backups_starts_over(tmp_path):
    log = RotatingJsonLines(tmp_path / "p.jsonl", max_bytes=50, backups=0)
    for i in range(5):
        log.write({"i": i, "pad": "y" * 20})
    assert [p.name for p in tmp_path.iterdir()] == ["p.jsonl"]
    assert [json.loads(l)["i"] for l in (tmp_path / "p.jsonl").read_text().splitlines()] == [4]


def test_unwritable_log_path_is_a_config_error(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match=r"\[perf\] log_path: cannot write .*file/perf.jsonl"):
        RotatingJsonLines(tmp_path / "file" / "perf.jsonl", 10_000, 1)


def cfg(tmp_path, **kw) -> PerfConfig:
    return replace(PerfConfig(), log_path=str(tmp_path / "state" / "perf.jsonl"), **kw)


def test_without_journald_the_local_log_and_stderr_carry_on(tmp_path):
    err = io.StringIO()
    log = PerfLog(cfg(tmp_path), journal=None, stream=err)
    rec = perf_record(metered().snapshot(), {}, mode="small")
    log.write(rec)
    assert json.loads((tmp_path / "state" / "perf.jsonl").read_text()) == rec
    assert err.getvalue().startswith("emocap: perf mode=small ") and err.getvalue().count("\n") == 1


def test_local_log_alone(tmp_path, capsys):
    log = PerfLog(cfg(tmp_path), journal=None, stream=None)
    log.write(perf_record(metered().snapshot(), {}, mode="small"))
    assert capsys.readouterr() == ("", "")
    assert len((tmp_path / "state" / "perf.jsonl").read_text().splitlines()) == 1


def test_journald_disabled_in_config_is_not_opened(tmp_path):
    assert PerfLog(cfg(tmp_path, journald=False)).journal is None


class BrokenJournal:
    """journald whose socket went away at run time (no journald on this machine to break)."""

    calls = 0

    def send(self, **fields):
        self.calls += 1
        raise OSError(111, "Connection refused")


def test_a_failing_journal_falls_back_to_stderr_and_is_reported_once(tmp_path, capsys):
    out = io.StringIO()
    log = PerfLog(cfg(tmp_path), journal=BrokenJournal(), stream=out)
    for _ in range(3):
        log.write(perf_record(metered().snapshot(), {}, mode="large"))
    assert out.getvalue().count("emocap: perf mode=large") == 3
    assert capsys.readouterr().err.count("performance log to journald failed") == 1
    assert len((tmp_path / "state" / "perf.jsonl").read_text().splitlines()) == 3


# Run the real systemd.journal.send against a socket standing in for journald, inside a private
# mount namespace so no other process on the machine sees it; read the native-protocol datagram.
JOURNAL_PROBE = textwrap.dedent("""
    import json, os, socket, sys
    from dataclasses import replace
    from emocap.config import PerfConfig
    from emocap.meter import Meter
    from emocap.perf import PerfLog, perf_record
    os.makedirs("/run/systemd/journal")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("/run/systemd/journal/socket")
    m = Meter(); m.latency("emotion", 2.5); m.count("frames_dropped", 4)
    log = PerfLog(replace(PerfConfig(), log_path=sys.argv[1]))
    log.write(perf_record(m.snapshot(), {}, mode="cascade"))
    data = s.recv(65536).decode()
    print(json.dumps(dict(l.split("=", 1) for l in data.splitlines() if "=" in l)))
""")


def test_records_reach_journald_as_structured_fields(tmp_path):
    if not shutil.which("unshare"):
        pytest.skip("unshare not available")
    script = tmp_path / "probe.py"
    script.write_text(JOURNAL_PROBE)
    env_path = ":".join(p for p in sys.path if p)
    cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c",
           'mount -t tmpfs tmpfs /run/systemd 2>/dev/null || exit 77; exec "$0" "$@"',
           sys.executable, str(script), str(tmp_path / "perf.jsonl")]
    r = subprocess.run(cmd, capture_output=True, text=True, env={"PYTHONPATH": env_path}, timeout=60)
    if r.returncode in (1, 77) and not r.stdout:
        pytest.skip(f"no private mount namespace here ({r.stderr.strip()[:80]})")
    assert r.returncode == 0, r.stderr
    fields = json.loads(r.stdout)
    assert fields["SYSLOG_IDENTIFIER"] == "emocap" and fields["PRIORITY"] == "6"
    assert fields["LATENCY_EMOTION_P95_MS"] == "2.5" and fields["MODE"] == "cascade"
    assert fields["FRAMES_DROPPED"] == "4"
    assert fields["MESSAGE"].startswith("perf mode=cascade emotion p95=2.5ms")
    assert r.stderr == ""  # journald took it: nothing on stderr
