"""Replaying through the service's own command, as a user would, for the benchmarks and
load tests: a config written as TOML, `emocap replay --json` in a child process (optionally
under a CPU hog on every core), its captions and its performance-log summary."""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from emocap_train import ROOT
from emocap import config, stats
from emocap.errors import EmocapError


def hog() -> subprocess.Popen:
    """A CPU hog on every core: stress-ng, or one Python busy loop per core without it."""
    n = os.cpu_count() or 1
    cmd = (["stress-ng", "--cpu", str(n), "--timeout", "600s", "--quiet"] if shutil.which("stress-ng")
           else [sys.executable, "-c", "import multiprocessing as m\ndef f():\n    while True: pass\n"
                 f"ps = [m.Process(target=f, daemon=True) for _ in range({n})]\n"
                 "[p.start() for p in ps]\n[p.join(600) for p in ps]"])
    return subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def end_hog(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    return json.dumps(str(v), ensure_ascii=False)


def write_config(cfg: config.Config, path: Path, **perf) -> Path:
    """``cfg`` (paths already absolute) as a TOML file, with ``[perf]`` overrides."""
    cfg = dataclasses.replace(cfg, perf=dataclasses.replace(cfg.perf, **perf))
    lines = []
    for f in dataclasses.fields(cfg):
        section = getattr(cfg, f.name)
        if dataclasses.is_dataclass(section):
            lines.append(f"[{f.name}]")
            lines += [f"{k} = {toml_value(v)}" for k, v in dataclasses.asdict(section).items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclasses.dataclass
class Replay:
    """One ``emocap replay --json`` run: its captions and its performance log summary."""

    captions: list[dict]
    summary: dict | None
    wall_s: float


def replay(cfg: config.Config, files: list[Path], log: Path, realtime: bool, under_hog: bool = False) -> Replay:
    """Run the service's own replay command in a child process, as a user would; its
    performance log goes to ``log``."""
    cfg_path = write_config(cfg, log.with_suffix(".toml"), log_path=str(log), journald=False, interval_s=1.0)
    cmd = [sys.executable, "-m", "emocap.cli", "replay", "--json", "--config", str(cfg_path), *map(str, files)]
    cmd += ["--realtime"] if realtime else []
    env = {**os.environ, "PYTHONPATH": str(ROOT / "daemon")}
    proc = hog() if under_hog else None
    t0 = time.monotonic()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    finally:
        if proc:
            end_hog(proc)
    if r.returncode != 0:
        raise EmocapError(f"emocap replay failed ({r.returncode}): {r.stderr.strip()[-300:]}")
    captions = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    summary = None
    if log.exists():
        records, _ = stats.read_records(stats.log_files(log))
        summary = stats.summarise(records) if records else None
    return Replay(captions, summary, time.monotonic() - t0)


def static_mode(cfg: config.Config, mode: str) -> config.Config:
    return dataclasses.replace(cfg, mode=dataclasses.replace(cfg.mode, dynamic=False, initial=mode))


def percentiles(ms: list[float]) -> dict:
    if not ms:
        return {"n": 0, "p50": None, "p95": None}
    return {"n": len(ms), "p50": round(float(np.percentile(ms, 50)), 2), "p95": round(float(np.percentile(ms, 95)), 2)}


def audio_seconds(files: list[Path]) -> float:
    return sum(sf.info(str(f)).frames / sf.info(str(f)).samplerate for f in files)
