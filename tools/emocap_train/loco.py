"""The leave-one-corpus-out yardstick: one recipe trained once per held-out corpus.

    python tools/loco.py --name sn --out runs/loco [--folds crema-d ravdess emotiontts-ko]
        [--jobs 2] -- --arch small_mel --seed 4 --stream-norm ...   # the recipe: train.py options

For each fold: ``make_split.py --leave-out CORPUS`` on ``splits/ser_split_v2.json``, then
``train.py`` (the manifests, noise, split and output folder are filled in), a float export
(``export.py --skip-metrics``) and ``evaluate.py --split FOLD --part test``: the whole held-out
corpus, every speaker one stream. Prints one JSON object: per fold the held-out corpus's
macro-F1, accuracy, coverage and shown precision at ``--show-confidence`` and the run's
seconds, and their means over the folds, the figure that predicts a new user's voice (a
corpus, microphone and language the model never heard). Checkpoints within a fold are still
chosen on that fold's validation part (the other corpora's validation speakers).

``--folds emotiontts-ko:1 emotiontts-ko:2`` are the Korean leave-speakers-out folds instead
(half the Korean speakers held out, their test sentences only; the other half trains).

``{fold}`` in the recipe becomes the fold's name (``emotiontts-ko:1`` as ``emotiontts-ko-1``), for
an option that differs by fold, such as a teacher that saw only that fold's training corpora:
``-- --teacher runs/loco/teacher_{fold}.onnx``.

``--calibrate`` runs ``calibrate.py`` on each fold's model with the fold's validation part (the
other corpora), as the shipped models are calibrated, and scores coverage and shown precision at
the threshold it picks: whether a threshold chosen on known voices keeps its precision on new
ones. ``--rescore`` skips training and scores the fold models already in OUT.

``--join A B ...`` trains nothing: each fold's model is the mean of recipes A, B, ...'s models of
that fold (``ensemble.py``), scored on their split, as the shipped large model joins members:
``python tools/loco.py --name rb45 --join rb rb5`` (the folds of seeds 4 and 5 of ``rb``). The
members' graphs are joined, not their temperature or centring: the scoring options above calibrate
and centre the joined model.

``--centre W`` scores a copy of each fold model given stream centring (``centre.py --weight W``,
its prior from the fold's validation part) instead: the centred figures of the same training.
``--calm`` adds the calm guard to that centring (``centre.py --calm-label neutral``, as shipped).
``--neutral-share F`` scores each held-out speaker's stream with neutral clips making share F
(evaluate.py's option): stream-adaptive methods meet a mostly calm day, not an acted corpus.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from emocap_train import ROOT, model_card, shared_data

FOLDS = ("crema-d", "ravdess", "emotiontts-ko")
KOREAN_HALVES = ("emotiontts-ko:1", "emotiontts-ko:2")
"""The Korean leave-speakers-out folds (``make_split.py --hold-out``): new Korean speakers and
sentences, with the other Korean speakers in training, as the device is trained."""


def parse_args(argv=None):
    if argv is None:
        argv = sys.argv[1:]
    recipe = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--name", required=True, help="recipe name: runs go to OUT/NAME_FOLD")
    p.add_argument("--out", type=Path, default=ROOT / "runs" / "loco")
    p.add_argument("--folds", nargs="+", default=list(FOLDS))
    p.add_argument("--base", type=Path, default=ROOT / "splits" / "ser_split_v2.json")
    p.add_argument("--jobs", type=int, default=1, help="folds trained at once (one torch thread each)")
    p.add_argument("--show-confidence", type=float, default=0.5, help="threshold without --calibrate")
    p.add_argument("--calibrate", action="store_true", help="temperature and threshold from the fold's validation")
    p.add_argument("--rescore", action="store_true", help="reuse the fold models in OUT: no training")
    p.add_argument("--centre", type=float, help="score the fold models with stream centring of this weight")
    p.add_argument("--calm", action="store_true",
                   help="with --centre: the calm guard (neutral never below the others' lean-weighted shift)")
    p.add_argument("--neutral-share", type=float, help="held-out streams with this share of neutral clips")
    p.add_argument("--join", nargs="+", metavar="RECIPE",
                   help="no training: each fold's model joins these recipes' fold models (ensemble.py)")
    args = p.parse_args(own)
    if args.calm and args.centre is None:
        p.error("--calm needs --centre W: the guard is part of stream centring")
    if args.join and (recipe or len(args.join) < 2):
        p.error("--join takes two or more trained recipes and no train.py options after --")
    if args.join and (args.name in args.join or len(set(args.join)) < len(args.join)):
        p.error("--join: the recipes must differ from each other and from --name (a fold model would be overwritten)")
    args.recipe = recipe
    return args


def _run(cmd: list, log) -> None:
    log.write("$ " + " ".join(map(str, cmd)) + "\n")
    log.flush()
    subprocess.run([str(c) for c in cmd], stdout=log, stderr=subprocess.STDOUT, check=True)


def fold_slug(name: str) -> str:
    """A fold's name as it appears in paths: ``emotiontts-ko:1`` -> ``emotiontts-ko-1``."""
    return name.replace(":", "-")


def run_dir(out: Path, recipe: str, name: str) -> Path:
    """Where recipe ``recipe``'s model of fold ``name`` lives."""
    return out / f"{recipe}_{fold_slug(name)}"


def manifests() -> list[Path]:
    data = shared_data()
    return [data / "ser/manifest.csv", data / "asr/ko/emotion.csv"]


def fold_recipe(recipe: list[str], name: str) -> list[str]:
    """The train.py options for fold ``name``: ``{fold}`` filled in."""
    return [a.replace("{fold}", fold_slug(name)) for a in recipe]


def _train(args, name: str, run: Path, manifest_args: list, log) -> None:
    """Split, train and export one fold into ``run``."""
    data, py, tools = shared_data(), sys.executable, ROOT / "tools"
    corpus = name.partition(":")[0]
    held = ["--hold-out", name] if ":" in name else ["--leave-out", corpus]
    split = run / "split.json"
    _run([py, tools / "make_split.py", "--base", args.base, *manifest_args, *held, "--out", split], log)
    _run([py, tools / "train.py", *manifest_args, "--noise", data / "noise", "--threads", 1, "--workers", 1,
          *fold_recipe(args.recipe, name), "--split", split, "--out", run], log)
    _run([py, tools / "export.py", "--checkpoint", run / "model.pt", "--skip-metrics", "--out", run / "model.onnx"],
         log)


def join_members(args, name: str) -> list[Path]:
    """The run folders of fold ``name`` that ``--join`` averages."""
    return [run_dir(args.out, r, name) for r in args.join]


def _join(args, name: str, run: Path, log) -> None:
    """Fold ``name``'s model in ``run`` as the mean of recipes ``args.join``'s models of that fold."""
    members = join_members(args, name)  # checked by join_problem: same split, files present
    (run / "split.json").write_text((members[0] / "split.json").read_text())
    _run([sys.executable, ROOT / "tools" / "ensemble.py", *[a for m in members for a in ("--member", m / "model.onnx")],
          "--out", run / "model.onnx", "--skip-metrics", "--description",
          f"mean of {' + '.join(args.join)}, fold {name}"], log)


def join_problem(args) -> str | None:
    """Why ``--join`` cannot build its fold models (a member's model or split missing, or members
    of one fold that held out different voices), or None."""
    if not args.join or args.rescore:
        return None
    for n in args.folds:
        members = join_members(args, n)
        missing = [m / f for m in members for f in ("model.onnx", "split.json") if not (m / f).exists()]
        if missing:
            return f"no fold model at {missing[0]}: train that recipe's folds first"
        if len({(m / "split.json").read_text() for m in members}) > 1:
            return f"{' and '.join(map(str, members))} were trained on different splits"
    return None


def _score(args, corpus: str, run: Path, manifest_args: list, log) -> dict:
    """The held-out corpus's figures for the fold model in ``run`` (calibrated first if asked)."""
    py, tools, split, model = sys.executable, ROOT / "tools", run / "split.json", run / "model.onnx"
    threshold = ["--show-confidence", str(args.show_confidence)]
    if args.centre is not None:
        centred = run / f"model_{centring(args)}.onnx"
        model_card.drop_stale_card(centred)  # a copy made before: its card names that file
        centred.write_bytes(model.read_bytes())
        _run([py, tools / "centre.py", "--model", centred, *manifest_args, "--split", split,
              "--weight", args.centre, *(["--calm-label", "neutral"] if args.calm else [])], log)
        model = centred
    mix = ["--neutral-share", str(args.neutral_share)] if args.neutral_share is not None else []
    if args.calibrate:
        _run([py, tools / "calibrate.py", "--model", model, *manifest_args, "--split", split], log)
        threshold = []  # the model's own, just calibrated
    res = subprocess.run([py, tools / "evaluate.py", *map(str, manifest_args), "--model", str(model), "--split",
                          str(split), "--part", "test", "--json", "--workers", "1", *threshold, *mix],
                         capture_output=True, text=True, check=True)
    r = json.loads(res.stdout)
    c = r["per_corpus"][corpus]
    out = {k: round(c[k], 4) for k in ("macro_f1", "accuracy", "coverage", "shown_precision")}
    out["n"], out["precision_curve"] = c["n"], c["precision_curve"]
    if args.calibrate:
        out["show_confidence"] = r["show_confidence"]  # the threshold evaluate.py read from the model
    return out


def centring(args) -> str:
    """How the fold model was centred, as its copy and results are named: ``centre4``, ``centre4calm``."""
    return f"centre{args.centre:g}" + ("calm" if args.calm else "")


def result_name(args) -> str:
    """The fold's result file: loco.json, or named for how it was scored."""
    parts = (["calibrated"] if args.calibrate else []) + ([centring(args)] if args.centre is not None else []) \
        + ([f"neutral{args.neutral_share:g}"] if args.neutral_share is not None else [])
    return "_".join(["loco", *parts]) + ".json"


def fold(args, name: str) -> dict:
    """One fold: ``CORPUS`` held out whole, or ``CORPUS:K`` half K of its speakers."""
    manifest_args = [a for m in manifests() for a in ("--manifest", m)]
    run = run_dir(args.out, args.name, name)
    run.mkdir(parents=True, exist_ok=True)
    t = time.time()
    with open(run / "log.txt", "a", encoding="utf-8") as log:
        if args.join and not args.rescore:
            _join(args, name, run, log)  # no training: the members are trained already
        elif not args.rescore:
            _train(args, name, run, manifest_args, log)
        out = _score(args, name.partition(":")[0], run, manifest_args, log)
    out["seconds"] = round(time.time() - t)
    (run / result_name(args)).write_text(json.dumps(out, indent=1))
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    problem = join_problem(args)
    if problem:
        print(f"loco.py: --join: {problem}", file=sys.stderr)
        return 2
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        results = dict(zip(args.folds, pool.map(lambda c: fold(args, c), args.folds)))
    mean = {k: round(sum(r[k] for r in results.values()) / len(results), 4)
            for k in ("macro_f1", "accuracy", "coverage", "shown_precision")}
    print(json.dumps({"recipe": args.name, "train_options": args.recipe, "joined": args.join, "folds": results,
                      "mean_over_folds": mean, "show_confidence": "calibrated" if args.calibrate
                      else args.show_confidence, "centre": args.centre, "calm_guard": args.calm,
                      "neutral_share": args.neutral_share}))
    return 0
