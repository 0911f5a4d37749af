"""The host-side helpers of tools/check_arm64.sh: caption comparison and carried trust."""

import json

import arm64_compare
import arm64_trust

REF = [
    {"t_start": 0.6, "t_end": 5.13, "text": "심폐소생술 을", "emotion": "neutral", "confidence": 0.6465, "model": "small"},
    {"t_start": 6.63, "t_end": 10.8, "text": "보잘것없 는", "emotion": "anger", "confidence": 0.5252, "model": "large"},
    {"t_start": 12.3, "t_end": 12.6, "text": "네", "emotion": None, "confidence": None, "model": None},
]


def changed(i, **fields):
    runs = [dict(c) for c in REF]
    runs[i].update(fields)
    return runs


def verdict(runs, tol=0.01):
    lines, ok = arm64_compare.compare(REF, {"a72": runs}, tol)
    return ok, lines[-1]


def test_equal_runs_and_small_confidence_drift_pass():
    assert verdict([dict(c) for c in REF])[0]
    ok, line = verdict(changed(0, confidence=0.6465 + 0.009))
    assert ok and "max |confidence diff| 0.0090" in line and line.endswith("OK")


def test_each_kind_of_difference_fails():
    for i, fields in [(0, {"confidence": 0.6465 + 0.011}), (1, {"emotion": "sadness"}),
                      (1, {"model": "small"}), (0, {"text": "심폐소생술"}), (2, {"confidence": 0.4})]:
        ok, line = verdict(changed(i, **fields))
        assert not ok and line.endswith("MISMATCH"), fields


def test_missing_and_extra_captions_fail():
    assert not verdict(REF[:2])[0]
    ok, line = verdict(REF + [REF[0]])
    assert not ok and "1 extra captions" in line


def test_main_reads_files_and_names_bad_input(tmp_path, capsys):
    ref, run, bad = tmp_path / "x86.jsonl", tmp_path / "a72.jsonl", tmp_path / "bad.jsonl"
    ref.write_text("\n".join(json.dumps(c) for c in REF) + "\n")
    run.write_text("\n".join(json.dumps(c) for c in changed(1, emotion="happiness")) + "\n")
    bad.write_text(json.dumps(REF[0]) + "\n{oops\n")
    assert arm64_compare.main([str(ref), f"a72={ref}"]) == 0
    assert arm64_compare.main([str(ref), f"a72={run}"]) == 1
    assert "!emotion" in capsys.readouterr().out
    assert arm64_compare.main([str(ref), f"a72={bad}"]) == 2
    assert f"{bad}:2: not a JSON caption" in capsys.readouterr().err


def test_pip_conf_keeps_what_reaches_an_index_and_drops_host_paths(monkeypatch):
    monkeypatch.setattr(arm64_trust, "pip_settings", lambda: {
        "cert": "/host/ca.pem", "find-links": "/opt/wheels", "constraint": "/etc/xdg/pip/c.txt",
        "extra-index-url": "file:///opt/pypi/simple https://mirror.example/simple",
        "index-url": "file:///opt/only-local", "default-timeout": "180"})
    conf = arm64_trust.pip_conf().splitlines()
    assert conf == ["[global]", f"cert = {arm64_trust.ROOT_BUNDLE}",
                    "extra-index-url = https://mirror.example/simple", "default-timeout = 180"]


def pem(body):
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----"


def test_certs_carries_only_certificates_the_root_lacks(tmp_path, monkeypatch):
    bundle = tmp_path / "host.pem"
    bundle.write_text("\n".join([pem("QUFB"), "junk", pem("QkJC\nQkJC"), pem("Q0ND")]) + "\n")
    monkeypatch.setattr(arm64_trust, "pip_settings", lambda: {"cert": str(bundle)})
    root = tmp_path / "root"
    (root / "usr/share/ca-certificates/mozilla").mkdir(parents=True)
    (root / "usr/share/ca-certificates/mozilla/a.crt").write_text(pem("QUFB") + "\n")
    (root / arm64_trust.LOCAL_DIR).mkdir(parents=True)
    (root / arm64_trust.LOCAL_DIR / "host-07.crt").write_text("stale")
    assert arm64_trust.carry_certs(root) == 2
    carried = sorted((root / arm64_trust.LOCAL_DIR).glob("*.crt"))
    assert [p.name for p in carried] == ["host-00.crt", "host-01.crt"]
    assert carried[0].read_text() == pem("QkJC\nQkJC") + "\n"


def test_files_are_spread_over_the_manifest():
    import arm64_files

    rows = [{"path": f"{i}.flac"} for i in range(360)]
    picked = [r["path"] for r in arm64_files.pick(rows, 40)]
    assert len(picked) == 40 and picked[:3] == ["0.flac", "9.flac", "18.flac"] and picked[-1] == "351.flac"
    assert arm64_files.pick(rows[:5], 40) == rows[:5]
    assert arm64_files.pick(rows, 0) == []
