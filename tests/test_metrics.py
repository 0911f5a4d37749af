"""emocap/metrics.py names every metric the code measures, with the kind it is measured as."""
import ast
from pathlib import Path

import pytest

from emocap import metrics, perf
from emocap.metrics import COUNT, GAUGE, LATENCY, METRICS

DAEMON = Path(metrics.__file__).parent
# Meter method -> the kinds of metric it takes
METHODS = {"latency": {LATENCY}, "tap": {LATENCY}, "count": {COUNT}, "gauge": {GAUGE}, "read": {COUNT, GAUGE}}
MAPPINGS = {"INFER": metrics.INFER, "KEPT": metrics.KEPT, "RUNS": metrics.RUNS}


def meter_calls():
    """(file:line, method, names) of every call on something called ``*meter*`` in the daemon."""
    for path in sorted(DAEMON.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in METHODS and "meter" in ast.unparse(node.func.value).lower()):
                continue
            where, arg = f"{path.relative_to(DAEMON)}:{node.lineno}", node.args[0] if node.args else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                yield where, node.func.attr, [arg.value]
            elif isinstance(arg, ast.Subscript) and ast.unparse(arg.value) in MAPPINGS:
                yield where, node.func.attr, list(MAPPINGS[ast.unparse(arg.value)].values())
            else:
                pytest.fail(f"{where}: name the metric by a literal or a mapping of emocap/metrics.py")


def test_every_metric_measured_is_named_with_its_kind():
    seen = set()
    for where, method, names in meter_calls():
        for name in names:
            assert name in METRICS, f"{where}: metric {name!r} is not named in emocap/metrics.py"
            assert METRICS[name].kind in METHODS[method], f"{where}: {name!r} is a {METRICS[name].kind}, set by {method}"
            seen.add(name)
    assert seen == set(METRICS), f"named but never measured: {set(METRICS) - seen}"


def test_each_metric_has_a_unit_and_the_record_its_fields():
    assert all(m.unit and m.what and m.kind in (LATENCY, COUNT, GAUGE) for m in METRICS.values())
    assert all(m.unit == "ms" for m in METRICS.values() if m.kind == LATENCY)
    # the fields emocap stats sums, and the ones journald and the README name
    assert {"frames_captured", "frames_dropped", "captions", "model_small", "model_large",
            "mode_switches"} == set(perf.COUNTERS)
    assert perf.GAUGES == ("ring_fill", "asr_backlog_s")


def test_an_unnamed_metric_is_refused_in_one_line():
    with pytest.raises(ValueError, match=r"^metric 'frames_lost' is not named in emocap/metrics.py$"):
        metrics.kind_of("frames_lost")
