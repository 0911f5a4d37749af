#!/usr/bin/env python3
"""Korean spacing (kiwipiepy): its cost per caption, its memory, and how Kiwi's options score.

    python tools/spacing_bench.py [--json]                      # the shipped spacer
    python tools/spacing_bench.py --compare CAPTIONS.jsonl       # Kiwi's options, WER/CER/RSS each

Each measurement runs in a fresh child process, so the RSS it adds is Kiwi's alone. Texts
are real Vosk outputs: tests/data/vosk_ko_sample.jsonl, or for --compare the captions of
``emocap replay --json`` with ``[captions] spacing = "none"`` over the files of --manifest
(default: all of ../shared/data/asr/ko), each caption spaced on its own as the service does.
tools/bench.py reports ``spacing()`` as its section of that name.
"""
from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

from emocap_train import ROOT

SAMPLE = ROOT / "tests" / "data" / "vosk_ko_sample.jsonl"


def sample_texts() -> list[str]:
    return [json.loads(l)["vosk"] for l in SAMPLE.read_text(encoding="utf-8").splitlines() if l.strip()]


def child(options: dict, texts: list[str], reps: int) -> dict:
    """In this process (a fresh child): load, warm, space every text ``reps`` times."""
    import numpy as np
    import psutil

    from emocap import spacing

    proc = psutil.Process()
    before = proc.memory_info().rss
    t0 = time.perf_counter()
    spacer = spacing.KiwiSpacing(**options)
    load_s = time.perf_counter() - t0
    ms, out = [], []
    for _ in range(reps):
        for t in texts:
            t1 = time.perf_counter_ns()
            out.append(spacer.space(t))
            ms.append((time.perf_counter_ns() - t1) / 1e6)
    q = lambda p: round(float(np.percentile(ms, p)), 3)  # noqa: E731
    return {"load_s": round(load_s, 2), "rss_added_mb": round((proc.memory_info().rss - before) / 2**20, 1),
            "per_caption_ms": {"p50": q(50), "p95": q(95), "max": round(max(ms), 3)}, "captions": len(texts),
            "rejected": spacer.rejected, "spaced": out[: len(texts)]}


def in_child(options: dict, texts: list[str], reps: int = 1) -> dict:
    code = "import json,sys; from emocap_train import spacing_bench as b; a=json.load(sys.stdin); " \
           "print(json.dumps(b.child(a['o'], a['t'], a['r']), ensure_ascii=False))"
    r = subprocess.run([sys.executable, "-c", code], input=json.dumps({"o": options, "t": texts, "r": reps}),
                       capture_output=True, text=True, cwd=ROOT / "tools", timeout=600,
                       env={**__import__("os").environ, "PYTHONPATH": f"{ROOT / 'daemon'}:{ROOT / 'tools'}"})
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "child failed")
    return json.loads(r.stdout)


def spacing(reps: int = 5) -> dict:
    """bench.py's section: the shipped spacer on the real Vosk sample."""
    try:
        r = in_child({}, sample_texts(), reps)
    except (RuntimeError, OSError) as e:
        return {"unit": "ms per caption, MB", "reason": str(e), "per_caption_ms": None, "rss_added_mb": None,
                "load_s": None, "captions": None}
    r.pop("spaced")
    return {"unit": "ms per caption, MB (RSS added by loading Kiwi), s (load + warm-up)", **r,
            "note": f"{SAMPLE.name}: real Vosk captions, each spaced {reps} times in a fresh process"}


def text_line(r: dict) -> str:
    if r.get("reason"):
        return f"Korean spacing per caption   n/a ({r['reason']})"
    q = r["per_caption_ms"]
    return (f"Korean spacing per caption   ms p50 {q['p50']:.3f}  p95 {q['p95']:.3f}; +{r['rss_added_mb']} MB RSS, "
            f"load {r['load_s']} s")


OPTION_GRID = [dict(dicts=d, model_type=m, reset_whitespace=r, space_tolerance=t, only_join=j)
               for d, m, (r, t, j) in itertools.product((False, True), ("cong", "cong-global"),
                                                        ((True, 0, True), (True, 0, False), (False, 0, False),
                                                         (False, 1, False), (False, 2, False)))]


def compare(captions_file: Path, manifest: Path) -> list[dict]:
    """Every option set of OPTION_GRID over the replayed captions: WER, CER, RSS, ms."""
    from emocap_train import asr_cer
    from emocap_train import cer
    from emocap.audio.files import load_audio

    rows = asr_cer.read_manifest(manifest, 0)
    durations = [len(load_audio(r["file"])) / 16000 for r in rows]
    caps = cer.captions_by_file([json.loads(l) for l in captions_file.read_text(encoding="utf-8").splitlines()],
                                durations)
    texts = [c["text"] for cs in caps for c in cs]
    refs = [r["text"] for r in rows]
    results = [{"options": "none (Vosk's spacing)", **asr_cer.score(refs, [" ".join(c["text"] for c in cs)
                                                                            for cs in caps])}]
    for options in OPTION_GRID:
        r = in_child(options, texts)
        spaced = iter(r.pop("spaced"))
        hyps = [" ".join(next(spaced) for _ in cs) for cs in caps]
        results.append({"options": options, **asr_cer.score(refs, hyps), **r})
    return results


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true")
    p.add_argument("--compare", type=Path, metavar="CAPTIONS", help="replay --json output with spacing none")
    p.add_argument("--manifest", type=Path, default=None, help="the files CAPTIONS was replayed from")
    args = p.parse_args(argv)
    if args.compare:
        from emocap_train import asr_cer

        out = compare(args.compare, args.manifest or asr_cer.DEFAULT_MANIFEST)
        print(json.dumps(out, ensure_ascii=False, indent=None if args.json else 1))
        return 0
    r = spacing()
    print(json.dumps(r, ensure_ascii=False) if args.json else text_line(r))
    return 0
