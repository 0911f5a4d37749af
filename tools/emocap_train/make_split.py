#!/usr/bin/env python3
"""Extend a speaker split with the manifest's speakers it does not know yet, by speaker, sexes balanced.

    python tools/make_split.py --base splits/ser_split.json --manifest ../shared/data/ser/manifest.csv \
        --out splits/ser_split_v2.json

Every speaker of ``--base`` keeps its part (so nothing that was trained on moves to validation
or test); each new speaker goes to train, validation or test in the ratio ``--ratio``
(default 12:4:4 of 20), drawn per corpus and per sex with ``random.Random(--seed)`` from the
sorted speaker lists, so each part gets as many men as women. The new file records its base,
seed and the speakers it added.

``--leave-out CORPUS`` writes a leave-one-corpus-out split instead: every speaker of CORPUS
(all its sentences) is the test part, and train/validation are the base's without them, e.g.
``--base splits/ser_split_v2.json --leave-out crema-d --out splits/loco_crema-d.json``; train a
model on it (tools/train.py --split) and ``tools/evaluate.py --split ... --part test`` reports
the held-out corpus.

``--hold-out CORPUS:K`` holds out half K (1 or 2) of one corpus's speakers instead, the
others of that corpus training with it: the leave-speakers-out fold for a corpus the device is
trained on (Korean: new speakers and, by the sentence rule, new sentences). The halves alternate
through each sex's sorted speakers (half 1 takes the women's 1st, 3rd, ... and the men's 2nd,
4th, ...), so both halves mix sexes. Test = that half, with the base's test sentences; train =
the corpus's other speakers, with the base's train sentences, plus the other corpora's train
speakers; validation = the base's, without the corpus (the other corpora's validation speakers
choose checkpoints, so no sentence or speaker of the held-out half is seen before the test);
the other corpora's test speakers are left out.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

PARTS = ("train", "validation", "test")


def new_speakers(manifest: Path, known: set[str]) -> dict[tuple[str, str], list[str]]:
    """Unknown speakers of a manifest, grouped by (corpus, sex), sorted."""
    groups: dict[tuple[str, str], set[str]] = defaultdict(set)
    with open(manifest, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["speaker"] not in known:
                groups[(r.get("corpus", ""), r.get("gender", ""))].add(r["speaker"])
    return {k: sorted(v) for k, v in sorted(groups.items())}


def assign(groups: dict, ratio: tuple[int, int, int], seed: int) -> dict[str, list[str]]:
    """Each group shuffled by one seeded generator, then cut in ``ratio``."""
    rng = random.Random(seed)
    out: dict[str, list[str]] = {p: [] for p in PARTS}
    for speakers in groups.values():
        order = speakers[:]
        rng.shuffle(order)
        total = sum(ratio)
        n_train = round(len(order) * ratio[0] / total)
        n_val = round(len(order) * ratio[1] / total)
        cuts = (order[:n_train], order[n_train:n_train + n_val], order[n_train + n_val:])
        for part, chosen in zip(PARTS, cuts):
            out[part].extend(sorted(chosen))
    return out


def leave_out(base: dict, manifests: list[str], corpus: str) -> dict:
    """Test = every speaker of ``corpus``; train and validation = the base's other speakers."""
    held = set()
    for m in manifests:
        with open(m, newline="", encoding="utf-8") as f:
            held |= {r["speaker"] for r in csv.DictReader(f) if r.get("corpus") == corpus}
    if not held:
        raise SystemExit(f"make_split: no speaker of corpus {corpus!r} in {', '.join(manifests)}")
    split = json.loads(json.dumps(base))
    for part in ("train", "validation"):
        split[part]["speakers"] = [s for s in base[part]["speakers"] if s not in held]
        split[part].get("sentences", {}).pop(corpus, None)
    split["test"] = {"speakers": sorted(held)}
    split["about"] = f"Leave-one-corpus-out: {corpus} held out whole; train/validation from the base without it."
    split["made_by"] = {"tool": "tools/make_split.py", "base_about": base.get("about", ""), "leave_out": corpus}
    return split


def corpus_speakers(manifests: list[str], corpus: str) -> dict[str, str]:
    """Speaker -> sex for every speaker of ``corpus`` in the manifests."""
    sex = {}
    for m in manifests:
        with open(m, newline="", encoding="utf-8") as f:
            sex.update({r["speaker"]: r.get("gender", "") for r in csv.DictReader(f) if r.get("corpus") == corpus})
    if not sex:
        raise SystemExit(f"make_split: no speaker of corpus {corpus!r} in {', '.join(manifests)}")
    return sex


def half(sex: dict[str, str], k: int) -> list[str]:
    """Half ``k`` (1 or 2) of the speakers, alternating through each sex's sorted list."""
    out, start = [], k - 1
    for s in sorted(set(sex.values())):
        out += sorted(x for x in sex if sex[x] == s)[start::2]
        start = 1 - start  # the other half starts the next sex, so an odd count evens out
    return sorted(out)


def hold_out_half(base: dict, manifests: list[str], spec: str) -> dict:
    """Test = half K of CORPUS; its other speakers train (see the module doc)."""
    corpus, _, k = spec.partition(":")
    if k not in ("1", "2"):
        raise SystemExit(f"make_split: --hold-out {spec!r}: expected CORPUS:1 or CORPUS:2")
    sex = corpus_speakers(manifests, corpus)
    held = half(sex, int(k))
    split = json.loads(json.dumps(base))
    split["train"]["speakers"] = sorted({s for s in base["train"]["speakers"] if s not in sex} | (set(sex) - set(held)))
    split["validation"]["speakers"] = [s for s in base["validation"]["speakers"] if s not in sex]
    split["validation"].get("sentences", {}).pop(corpus, None)
    test_sentences = {c: v for c, v in base["test"].get("sentences", {}).items() if c == corpus}
    split["test"] = {"speakers": held, **({"sentences": test_sentences} if test_sentences else {})}
    split["about"] = (f"Leave-speakers-out: half {k} of {corpus} ({len(held)} speakers) held out; its other "
                      f"speakers train; validation from the other corpora only.")
    split["made_by"] = {"tool": "tools/make_split.py", "base_about": base.get("about", ""), "hold_out": spec}
    return split


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base", required=True)
    p.add_argument("--manifest", required=True, action="append")
    p.add_argument("--out", required=True)
    p.add_argument("--ratio", default="12:4:4", help="train:validation:test share of the new speakers")
    p.add_argument("--seed", type=int, default=20261201)
    p.add_argument("--leave-out", metavar="CORPUS", help="write a leave-one-corpus-out split instead")
    p.add_argument("--hold-out", metavar="CORPUS:K", help="write a split holding out half K of CORPUS's speakers")
    args = p.parse_args(argv)
    base = json.loads(Path(args.base).read_text())
    if args.hold_out:
        Path(args.out).write_text(json.dumps(hold_out_half(base, args.manifest, args.hold_out), indent=1) + "\n")
        print(f"wrote {args.out}: half of {args.hold_out} held out")
        return 0
    if args.leave_out:
        Path(args.out).write_text(json.dumps(leave_out(base, args.manifest, args.leave_out), indent=1) + "\n")
        print(f"wrote {args.out}: {args.leave_out} held out")
        return 0
    known = {s for part in PARTS for s in base[part]["speakers"]}
    groups: dict = {}
    for m in args.manifest:
        groups.update(new_speakers(Path(m), known))
    ratio = tuple(int(x) for x in args.ratio.split(":"))
    added = assign(groups, ratio, args.seed)
    split = json.loads(json.dumps(base))
    for part in PARTS:
        split[part]["speakers"] = base[part]["speakers"] + added[part]
    split["about"] = (base.get("about", "") + f" Version 2: {Path(args.base).name} plus the speakers it did not know "
                      f"({sum(map(len, added.values()))}), by speaker, {args.ratio} per corpus and sex.")
    split["version"] = 2
    split["made_by"] = {"tool": "tools/make_split.py", "base": Path(args.base).name, "seed": args.seed,
                        "ratio": args.ratio, "added": added}
    Path(args.out).write_text(json.dumps(split, indent=1) + "\n")
    print(f"wrote {args.out}: added " + ", ".join(f"{p} {len(v)}" for p, v in added.items()))
    return 0
