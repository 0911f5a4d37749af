"""``emocap stats``: a summary of the performance log (and its rotated files).

Registered in the CLI through ``emocap/commands/stats.py``.

Latency per stage over the whole log is estimated from the per-interval summaries that the
log holds: p50 and p95 are the sample-weighted p50 and p95 of the intervals' own p50 and
p95, max is exact. Counters (frames, captions, model uses, switches) are exact sums.
"""
from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from emocap import config
from emocap.errors import EmocapError


NAME = "stats"
HELP = ("latency p50/p95/max, dropped frames, model share and mode switches over the performance log "
        "(rotated files included)")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--log", metavar="PATH", help="performance log (default: [perf] log_path of --config)")
    p.add_argument("--config", metavar="PATH", help="config file naming the log (default: as for emocap run)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", metavar="PNG", help="also draw latency and CPU over time into this PNG")


def run(args: argparse.Namespace) -> int:
    path = Path(args.log or config.load(args.config, check_files=False).perf.log_path).expanduser()
    files = log_files(path)
    records, bad = read_records(files)
    if not records:
        raise EmocapError(f"{path}: no performance records (expected JSON lines written by emocap run)")
    summary = summarise(records)
    summary.update(log=[str(f) for f in files], malformed_lines=bad)
    if args.plot:
        plot(records, Path(args.plot))
    print(json.dumps(summary, ensure_ascii=False) if args.json else report(summary))
    return 0


def log_files(path: Path) -> list[Path]:
    """The log and its rotated copies, oldest first (``perf.jsonl.3``, ``.2``, ``.1``, ``perf.jsonl``)."""
    pattern = re.compile(re.escape(path.name) + r"\.(\d+)$")
    rotated = [(int(m.group(1)), p) for p in path.parent.glob(path.name + ".*") if (m := pattern.match(p.name))]
    files = [p for _, p in sorted(rotated, reverse=True)] + ([path] if path.is_file() else [])
    if not files:
        raise EmocapError(f"{path}: no such performance log; is [perf] log_path right, has emocap run yet?")
    return files


def read_records(files: list[Path]) -> tuple[list[dict], int]:
    """Records in file order, and the count of unreadable lines (e.g. one cut short by a crash)."""
    records, bad = [], 0
    for f in files:
        try:
            lines = f.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError as e:
            raise EmocapError(f"{f}: cannot read ({e.strerror})") from None
        for line in lines:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                bad += 1
                continue
            if isinstance(rec, dict) and rec.get("event") in ("perf", "mode"):
                records.append(rec)
            else:
                bad += 1
    return records, bad


def weighted_percentile(values: list[float], weights: list[int], q: float) -> float:
    """The smallest value whose cumulative weight reaches ``q`` (0..100) of the total."""
    pairs = sorted(zip(values, weights))
    need, acc = q / 100 * sum(weights), 0
    for v, w in pairs:
        acc += w
        if acc >= need:
            return v
    return pairs[-1][0]


def latency(perf: list[dict]) -> dict:
    by_stage = defaultdict(list)
    for r in perf:
        for stage, s in r.get("latency_ms", {}).items():
            by_stage[stage].append(s)
    out = {}
    for stage, ss in sorted(by_stage.items()):
        n = [s["n"] for s in ss]
        out[stage] = {"n": sum(n), "p50": weighted_percentile([s["p50"] for s in ss], n, 50),
                      "p95": weighted_percentile([s["p95"] for s in ss], n, 95), "max": max(s["max"] for s in ss)}
    return out


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def summarise(records: list[dict]) -> dict:
    perf = [r for r in records if r["event"] == "perf"]
    switches = [r for r in records if r["event"] == "mode"]
    add = lambda key: sum(r.get(key, 0) for r in perf)
    captured, dropped, small, large = add("frames_captured"), add("frames_dropped"), add("model_small"), add("model_large")
    seconds = defaultdict(float)
    for r in perf:
        seconds[r.get("mode", "?")] += r.get("interval_s", 0.0)
    span = sum(seconds.values())
    cpu = [(r["cpu_percent"], r.get("interval_s", 0.0)) for r in perf if "cpu_percent" in r]
    ts = [r["ts"] for r in records if "ts" in r]
    return {
        "records": len(perf), "from": min(ts, default=None), "to": max(ts, default=None),
        "seconds": round(span, 3), "latency_ms": latency(perf),
        "frames": {"captured": captured, "dropped": dropped, "dropped_share": _share(dropped, captured)},
        "models": {"small": small, "large": large, "large_share": _share(large, small + large)},
        "mode_seconds": {m: round(s, 3) for m, s in sorted(seconds.items())},
        "mode_switches": len(switches),
        "switches": [{k: r.get(k) for k in ("ts", "mode_from", "mode_to", "reason")} for r in switches],
        "captions": add("captions"),
        "cpu_percent": {"mean": round(sum(c * w for c, w in cpu) / span, 1) if cpu and span else None,
                        "max": max((c for c, _ in cpu), default=None)},
        "rss_mb_max": max((r.get("rss_peak_mb", r.get("rss_mb", 0)) for r in perf if "rss_mb" in r), default=None),
    }


def _when(ts: float | None) -> str:
    return "?" if ts is None else datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def _pct(share: float | None) -> str:
    return "n/a" if share is None else f"{100 * share:.1f} %"


def report(s: dict) -> str:
    lines = [f"{len(s['log'])} file(s), {s['records']} records, {_when(s['from'])} to {_when(s['to'])} "
             f"({s['seconds'] / 60:.1f} min logged)",
             f"{'latency ms':<24}{'n':>8}{'p50':>9}{'p95':>9}{'max':>9}"]
    for stage, l in s["latency_ms"].items():
        lines.append(f"  {stage:<22}{l['n']:>8}{l['p50']:>9.2f}{l['p95']:>9.2f}{l['max']:>9.2f}")
    f, m = s["frames"], s["models"]
    lines += [f"frames: {f['captured']} captured, {f['dropped']} dropped ({_pct(f['dropped_share'])})",
              f"models: small {m['small']}, large {m['large']} (large share {_pct(m['large_share'])})",
              "modes: " + ", ".join(f"{k} {v:.0f} s" for k, v in s["mode_seconds"].items())
              + f"; {s['mode_switches']} switch(es)"]
    lines += [f"  {_when(w['ts'])} {w['mode_from']} -> {w['mode_to']} ({w['reason']})" for w in s["switches"][-5:]]
    cpu = s["cpu_percent"]
    lines.append(f"captions: {s['captions']}; process cpu mean {cpu['mean']} % max {cpu['max']} % of one core; "
                 f"rss max {s['rss_mb_max']} MB")
    if s.get("malformed_lines"):
        lines.append(f"skipped {s['malformed_lines']} unreadable line(s)")
    lines.append("(p50/p95 are estimated from per-interval summaries; max is exact)")
    return "\n".join(lines)


def plot(records: list[dict], png: Path) -> None:
    """Latency p95 per stage, and process CPU and system busy share, against time."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise EmocapError("--plot needs matplotlib; install it (pip install matplotlib) or leave out --plot") from None
    perf = [r for r in records if r["event"] == "perf" and "ts" in r]
    t0 = perf[0]["ts"] if perf else 0.0
    t = [(r["ts"] - t0) / 60 for r in perf]
    fig, (ax1, ax2) = plt.subplots(2, 1, sharex=True, figsize=(9, 6))
    for stage in sorted({k for r in perf for k in r.get("latency_ms", {})}):
        pts = [(x, r["latency_ms"][stage]["p95"]) for x, r in zip(t, perf) if stage in r.get("latency_ms", {})]
        ax1.plot(*zip(*pts), marker=".", label=f"{stage} p95")
    ax1.set_ylabel("latency, ms")
    ax1.legend(fontsize=8)
    ax2.plot(t, [r.get("cpu_percent", 0) for r in perf], label="emocap, % of one core")
    ax2.plot(t, [100 * (1 - r.get("cpu_idle", 1)) for r in perf], label="all CPUs busy, %")
    for r in records:
        if r["event"] == "mode" and "ts" in r:
            for ax in (ax1, ax2):
                ax.axvline((r["ts"] - t0) / 60, color="grey", linestyle=":", linewidth=1)
            ax2.text((r["ts"] - t0) / 60, 0.03, f" {r['mode_to']}", fontsize=8, rotation=90, va="bottom",
                     transform=ax2.get_xaxis_transform())
    ax1.set_ylim(bottom=0)
    ax2.set_ylim(bottom=0)
    ax2.set_ylabel("CPU, %")
    ax2.set_xlabel("minutes")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    try:
        fig.savefig(png, dpi=100)
    except OSError as e:
        raise EmocapError(f"{png}: cannot write the plot ({e.strerror})") from None
    finally:
        plt.close(fig)
