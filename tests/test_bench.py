"""tools/bench.py runs end to end and reports every figure with its unit (no timing asserted)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from emocap_train import bench, replaying

ROOT = Path(__file__).resolve().parents[1]


def test_bench_json_has_every_section_with_units(shared_data):
    # --no-pipeline: the three replays take minutes; tests/test_replay_load.py runs the pipeline
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "bench.py"), "--json", "--runs", "5", "--no-pipeline"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    sections = ("mfcc", "inference", "emotion_window", "cascade", "peers", "wearer_latency", "caption_latency",
                "replay", "peak_rss", "drops_under_load", "spacing")
    assert set(sections) <= set(out)
    for name in sections:
        assert out[name]["unit"], name
        if "reason" in out[name]:  # not measured: says why, claims no number
            assert all(v is None for k, v in out[name].items() if k not in ("unit", "reason"))
    assert out["caption_latency"]["reason"] == "--no-pipeline"
    assert out["mfcc"]["same_output"] is True
    assert out["mfcc"]["emocap"]["p50"] > 0 and out["inference"]["large"]["p95"] > 0
    assert out["machine"]["blas_threads"] == "1"
    sp = out["spacing"]  # measured on the real Vosk sample in a fresh process
    assert sp["captions"] == 40 and sp["rejected"] == 0 and sp["per_caption_ms"]["p50"] > 0 and sp["rss_added_mb"] > 0
    c = out["cascade"]
    assert c["clips"] == 920 and 0 <= c["rate"] <= 1
    assert c["threshold"] == __import__("emocap.config").config.load().emotion.cascade_confidence
    p = out["peers"]
    assert p["small_fp32"]["agreement_with_int8"]["same_label"] >= 0.9  # the twin computes the same function
    assert p["emocap"]["path"]["p50"] > 0 and p["ratios_p50"]["fp32_over_int8_model"] > 0
    assert out["wearer_latency"]["end_of_speech_to_caption"] is None  # --no-pipeline: not measured


def test_one_window_is_exactly_128_frames(shared_data):
    from emocap import features
    s = features.FeatureSettings()
    x = bench.one_window(bench.serdata.load_audio(shared_data / bench.SPEECH), s)
    assert features.mfcc(x, s).shape == (128, 40)


def test_written_config_reads_back_with_the_overrides(tmp_path):
    from dataclasses import replace
    from emocap import config
    cfg = config.load()
    path = replaying.write_config(cfg, tmp_path / "c.toml", log_path=str(tmp_path / "p.jsonl"), interval_s=1.0)
    back = config.load(path)
    assert back.perf == replace(cfg.perf, log_path=str(tmp_path / "p.jsonl"), interval_s=1.0)
    assert (back.emotion, back.mode, back.captions, back.display) == (cfg.emotion, cfg.mode, cfg.captions, cfg.display)


def test_wearer_stream_is_the_sentences_with_pauses(tmp_path, shared_data):
    from emocap_train import wearer_latency as w
    files = w.sentences(shared_data)
    assert len(files) == 24 and len({f.parent.name for f in files}) >= 20  # many speakers
    seconds = w.build_stream(files[:2], tmp_path / "s.wav")
    assert seconds == pytest.approx(replaying.audio_seconds(files[:2]) + 2 * w.GAP_S, abs=1e-3)
    x = bench.serdata.load_audio(tmp_path / "s.wav")
    gap = x[-int(w.GAP_S * 16000):].astype(float)
    assert 0 < gap.std() < 10  # faint noise, not digital silence, not speech
    caps = [{"end_to_caption_ms": 500.0, "end_to_shown_ms": 300.0, "onset_to_partial_ms": 400.0,
             "early_text": "신청 해주세요", "text": "신청해주세요"},
            {"end_to_caption_ms": 700.0, "end_to_shown_ms": 700.0, "onset_to_partial_ms": None, "early_text": None}]
    fig = w.figures(caps, 2, seconds, {"endpoint_silence_s": 0.5})
    assert fig["end_of_speech_to_caption"] == {"n": 2, "p50": 600.0, "p95": 690.0, "max": 700.0}
    assert fig["end_of_speech_to_shown"] == {"n": 2, "p50": 500.0, "p95": 680.0, "max": 700.0}
    assert fig["early"] == {"captions": 1, "same_text": 1}  # spacing aside, the early text stood
    assert fig["onset_to_first_partial"]["n"] == 1 and fig["end_of_speech_to_close_audio"]["n"] == 0


def test_fp32_twin_has_no_quantised_op_left():
    import onnx
    from emocap_train import qdq_float
    m = qdq_float.float_model(onnx.load(str(ROOT / "models" / "small.onnx")))
    ops = {n.op_type for n in m.graph.node}
    assert not ops & {"QuantizeLinear", "DequantizeLinear"} and "Conv" in ops
    assert all(i.data_type == onnx.TensorProto.FLOAT for i in m.graph.initializer if len(i.dims) > 1)


def test_bench_files_exist(shared_data):
    assert all((shared_data / f).is_file() for f in [bench.SPEECH, *bench.CONTINUOUS])
    assert 50 < replaying.audio_seconds([shared_data / f for f in bench.CONTINUOUS]) < 70


def test_replay_helper_runs_the_service_and_reads_its_log(tmp_path, shared_data):
    """The path behind the pipeline figures, on one short file (the full run takes minutes)."""
    from emocap import config
    cfg = replaying.static_mode(config.load(), "small")
    r = replaying.replay(cfg, [shared_data / bench.CONTINUOUS[0]], tmp_path / "p.jsonl", realtime=False)
    assert len(r.captions) >= 1 and all(c["model"] == "small" for c in r.captions)
    assert r.summary["records"] >= 1 and r.summary["mode_seconds"].keys() == {"small"}
    assert r.summary["frames"]["captured"] == len(bench.serdata.load_audio(shared_data / bench.CONTINUOUS[0]))
    assert replaying.percentiles([1.0, 2.0, 3.0]) == {"n": 3, "p50": 2.0, "p95": 2.9}
