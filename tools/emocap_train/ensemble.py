#!/usr/bin/env python3
"""Join exported ONNX models into one ensemble model (mean of their probabilities), with a card.

    python tools/ensemble.py --member runs/teacher/teacher.onnx --member models/small.onnx \
        --out models/large.onnx --manifest ../shared/data/ser/manifest.csv ...

Members keep their own precision (an INT8 model stays INT8, float16 weights stay float16), so
a budget in bytes buys more members than one precision would. Each member file counts once:
``logits = log(mean(softmax(member logits)))``, the same mean that tools/select_models.py
ranks on validation. Members must share labels and feature settings. A member whose input
statistics differ from the first member's (trained on another split) gets an exact affine adapter
in front, since the runtime z-scores the one input with the statistics in the metadata (the first
member's).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import compose, helper, numpy_helper

from emocap_train import model_card, quantisation
from emocap_train import serdata
from emocap.features import FeatureSettings
from emocap.emotion.model import INPUT, META_FEATURES, META_LABELS, META_MEAN, META_STD, OUTPUT, EmotionModel

CONTRACT = (META_LABELS, META_MEAN, META_STD, META_FEATURES)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--member", required=True, action="append", help="ONNX model from tools/export.py (2 or more)")
    p.add_argument("--out", required=True, help="ONNX file to write; the card goes beside it as .json")
    p.add_argument("--manifest", action="append", default=[], help="manifests for the test metrics")
    p.add_argument("--split", default=str(serdata.DEFAULT_SPLIT))
    p.add_argument("--noise", action="append", default=[], help="unseen-noise folders for the robustness metric")
    p.add_argument("--skip-metrics", action="store_true")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--description", default="")
    return p.parse_args(argv)


def metadata(m: onnx.ModelProto) -> dict:
    return {p.key: p.value for p in m.metadata_props}


def same_contract(a: dict, b: dict) -> bool:
    """Same labels in the same order and the same feature settings (fields added to the settings
    later take their defaults, as the runtime reads them); statistics may differ (input_adapter)."""
    features = [FeatureSettings.from_dict(json.loads(m[META_FEATURES])) for m in (a, b)]
    return json.loads(a[META_LABELS]) == json.loads(b[META_LABELS]) and features[0] == features[1]


def input_adapter(prefix: str, first: dict, own: dict) -> tuple[list, list]:
    """Nodes that feed a member its input: the shared input, z-scored with the first member's
    statistics (m0, s0), becomes the member's own z-score, z * s0 / s + (m0 - m) / s."""
    if all(own[k] == first[k] for k in (META_MEAN, META_STD)):
        return [helper.make_node("Identity", [INPUT], [prefix + INPUT])], []
    m0, s0 = (np.array(json.loads(first[k]), np.float32) for k in (META_MEAN, META_STD))
    m, sd = (np.array(json.loads(own[k]), np.float32) for k in (META_MEAN, META_STD))
    shape = (1, 1, -1, 1)  # per coefficient of [batch, 1, coefficients, frames]
    scale = numpy_helper.from_array((s0 / sd).reshape(shape), prefix + "adapt_scale")
    shift = numpy_helper.from_array(((m0 - m) / sd).reshape(shape), prefix + "adapt_shift")
    nodes = [helper.make_node("Mul", [INPUT, scale.name], [prefix + "adapt_scaled"]),
             helper.make_node("Add", [prefix + "adapt_scaled", shift.name], [prefix + INPUT])]
    return nodes, [scale, shift]


def join(members: list[onnx.ModelProto]) -> onnx.ModelProto:
    """One graph: the shared input feeds every member; their softmax outputs are averaged."""
    first = metadata(members[0])
    for i, m in enumerate(members[1:], 1):
        if not same_contract(first, metadata(m)):
            raise ValueError(f"member {i} differs from member 0 in labels or features")
    nodes, inits, probs = [], [], []
    opsets: dict[str, int] = {}
    for i, m in enumerate(members):
        m = compose.add_prefix(m, f"m{i}_")
        g = m.graph
        adapter_nodes, adapter_inits = input_adapter(f"m{i}_", first, metadata(members[i]))
        nodes.extend(adapter_nodes)
        inits.extend(adapter_inits)
        nodes.extend(g.node)
        inits.extend(g.initializer)
        nodes.append(helper.make_node("Softmax", [f"m{i}_{OUTPUT}"], [f"m{i}_probs"], axis=1))
        probs.append(f"m{i}_probs")
        for o in m.opset_import:
            opsets[o.domain] = max(opsets.get(o.domain, 0), o.version)
    n = len(members)
    nodes += [
        helper.make_node("Sum", probs, ["prob_sum"]),
        helper.make_node("Constant", [], ["inv_n"], value=helper.make_tensor("inv_n", onnx.TensorProto.FLOAT, [], [1.0 / n])),
        helper.make_node("Mul", ["prob_sum", "inv_n"], ["prob_mean"]),
        helper.make_node("Constant", [], ["eps"], value=helper.make_tensor("eps", onnx.TensorProto.FLOAT, [], [1e-7])),
        helper.make_node("Max", ["prob_mean", "eps"], ["prob_clamped"]),
        helper.make_node("Log", ["prob_clamped"], [OUTPUT]),
    ]
    src = members[0].graph
    graph = helper.make_graph(nodes, "ensemble", list(src.input), list(src.output), inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in sorted(opsets.items())])
    model.ir_version = max(m.ir_version for m in members)
    model.producer_name = "emocap tools/ensemble.py"
    archs = [metadata(m).get("arch", "?") for m in members]
    for k in CONTRACT:
        model.metadata_props.add(key=k, value=first[k])
    model.metadata_props.add(key="arch", value="ensemble(" + ",".join(archs) + ")")
    onnx.checker.check_model(model)
    return model


def main(argv=None) -> int:
    args = parse_args(argv)
    if len(args.member) < 2:
        sys.exit("ensemble: give two or more --member models")
    paths = [Path(p) for p in args.member]
    for p in paths:
        EmotionModel(p)  # each member honours the runtime contract (clear error otherwise)
    try:
        model = join([onnx.load(str(p)) for p in paths])
    except ValueError as e:
        sys.exit(f"ensemble: {e}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    model_card.drop_stale_card(out)
    onnx.save(model, str(out))
    runtime = EmotionModel(out)

    cards = [json.loads(p.with_suffix(".json").read_text()) if p.with_suffix(".json").is_file() else {}
             for p in paths]
    card = {
        **model_card.file_card(out, args.description),
        "arch": metadata(model)["arch"],
        "params": sum(c.get("params", 0) for c in cards),
        "precision": "members keep their own: " + ", ".join(c.get("precision", "?") for c in cards),
        "ops": quantisation.op_summary(out),
        **model_card.contract_card(runtime.labels, runtime.mean, runtime.std, runtime.settings, args.manifest, args.split),
        "members": [{"file": str(p), "bytes": p.stat().st_size, "arch": c.get("arch"),
                     "precision": c.get("precision"), "checkpoints": c.get("checkpoints"),
                     "training": c.get("training")} for p, c in zip(paths, cards)],
    }
    model_card.write_card(card, out, args, "tools/ensemble.py", argv)
    return 0
