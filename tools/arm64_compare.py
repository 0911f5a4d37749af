"""Compare ``emocap replay --json`` outputs of other machines with a reference run.

    python3 tools/arm64_compare.py REF.jsonl NAME=RUN.jsonl... [--tol 0.01] [--ref-name NAME]

Prints one row per reference caption (span, text, then label / confidence / model of every
run, with the fields that differ from the reference flagged) and one verdict line per run.
Captions must agree in text, label and model, confidences within ``--tol``; exit 1 if any run
differs, 2 on unreadable input. Standard library only: it runs on the host beside a chroot.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

FIELDS = ("text", "emotion", "model")


def read_captions(path: str) -> list[dict]:
    """The JSON captions of one replay, in order; ValueError names the file and line."""
    captions = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            captions.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}:{n}: not a JSON caption ({e.msg})") from None
    return captions


def differences(ref: dict, got: dict | None, tol: float) -> list[str]:
    """Names of the fields in which ``got`` differs from ``ref`` (all of them when missing)."""
    if got is None:
        return ["missing"]
    bad = [f for f in FIELDS if ref.get(f) != got.get(f)]
    a, b = ref.get("confidence"), got.get("confidence")
    if (a is None) != (b is None) or (a is not None and abs(a - b) > tol):
        bad.append("confidence")
    return bad


def cell(c: dict | None, bad: list[str]) -> str:
    if c is None:
        return "(none)"
    conf = "-" if c.get("confidence") is None else f"{c['confidence']:.4f}"
    mark = "" if not bad else " !" + ",".join(bad)  # "!text" etc.
    return f"{c.get('emotion') or '-'} {conf} {c.get('model') or '-'}{mark}"


def compare(ref: list[dict], runs: dict[str, list[dict]], tol: float,
            ref_name: str = "reference") -> tuple[list[str], bool]:
    """Table lines and whether every run matches the reference."""
    names = list(runs)
    lines = ["  ".join([f"{'#':>2} {'span s':>11}", ref_name.ljust(28)]
                       + [n.ljust(28) for n in names] + [f"text ({ref_name})"])]
    ok = True
    verdicts = {n: {"bad": 0, "dconf": 0.0} for n in names}
    for i, r in enumerate(ref):
        row, notes = [f"{i + 1:>2} {r['t_start']:5.2f}-{r['t_end']:5.2f}", cell(r, []).ljust(28)], []
        for n in names:
            got = runs[n][i] if i < len(runs[n]) else None
            bad = differences(r, got, tol)
            row.append(cell(got, bad).ljust(28))
            if got is not None and None not in (r.get("confidence"), got.get("confidence")):
                verdicts[n]["dconf"] = max(verdicts[n]["dconf"], abs(r["confidence"] - got["confidence"]))
            verdicts[n]["bad"] += bool(bad)
            if "text" in bad:  # Hangul is double width: the differing text goes on its own line
                notes.append(f"{'':14}{n} text: {got.get('text')}")
        lines += ["  ".join(row + [r["text"]])] + notes
    for n in names:
        extra = max(0, len(runs[n]) - len(ref))
        v = verdicts[n]
        good = v["bad"] == 0 and extra == 0
        ok &= good
        lines.append(f"{n}: {len(ref) - v['bad']}/{len(ref)} captions equal in text, label and model"
                     f" with confidence within {tol}; max |confidence diff| {v['dconf']:.4f}"
                     f"{f'; {extra} extra captions' if extra else ''}: {'OK' if good else 'MISMATCH'}")
    return lines, ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reference", help="JSON lines of the reference run (x86_64)")
    ap.add_argument("runs", nargs="+", metavar="NAME=FILE", help="JSON lines of a run to compare")
    ap.add_argument("--tol", type=float, default=0.01, help="largest confidence difference allowed")
    ap.add_argument("--ref-name", default="reference", help="column title of the reference run")
    args = ap.parse_args(argv)
    try:
        ref = read_captions(args.reference)
        runs = {}
        for spec in args.runs:
            name, sep, path = spec.partition("=")
            if not sep:
                raise ValueError(f"{spec}: expected NAME=FILE")
            runs[name] = read_captions(path)
    except (OSError, ValueError) as e:
        print(f"arm64_compare: {e}", file=sys.stderr)
        return 2
    if not ref:
        print(f"arm64_compare: {args.reference}: no captions in the reference run", file=sys.stderr)
        return 2
    lines, ok = compare(ref, runs, args.tol, args.ref_name)
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
