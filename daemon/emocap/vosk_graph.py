"""Vosk's language-model graph without its unused second word list.

``graph/Gr.fst`` (the n-gram language model as an OpenFST ``ngram`` FST) carries its 503,352
words twice, as input and as output symbol table. Vosk takes the words from the output table
only (``Model``: ``g_fst_->OutputSymbols()``), but OpenFST keeps both in memory: loading the
Korean model took 497 MB of RSS, 427 MB from a copy of Gr.fst without the input table, with the
same words decoded (x86_64, 2-vCPU Intel Xeon; README, "Memory over a long run"). So the runtime model folder
(emocap/vosk_conf.py) holds such a copy, written while the model loads.

The file's layout (OpenFST's FstHeader, then the symbol tables its flags announce, then the
FST): int32 magic, the FST and arc type as int32-length strings, int32 version, int32 flags,
uint64 properties, int64 start, number of states and of arcs.
"""
from __future__ import annotations

import shutil
import struct
from pathlib import Path

FST_MAGIC = 2125659606
SYMBOLS_MAGIC = 2125658996
"""First int32 of an OpenFST symbol table: its bytes (74 fb b2 7e) cannot occur inside the
table before it (UTF-8 text never holds 0xfb, and keys and lengths are far below 2^31)."""
HAS_ISYMBOLS, HAS_OSYMBOLS = 1, 2
GRAPH = "graph/Gr.fst"
"""The language-model graph of a lookahead Vosk model, relative to its folder."""
_TABLE = struct.pack("<i", SYMBOLS_MAGIC)
_BLOCK = 1 << 20  # bytes read at a time while searching and copying


def _header(f) -> tuple[int, int, int] | None:
    """(offset of the flags field, the flags, offset where the header ends), or None if not an FST."""
    def string() -> None:
        (n,) = struct.unpack("<i", f.read(4))
        if not 0 <= n < 256:
            raise ValueError
        f.read(n)

    try:
        if struct.unpack("<i", f.read(4))[0] != FST_MAGIC:
            return None
        string(), string()
        f.read(4)  # version
        flags_at = f.tell()
        (flags,) = struct.unpack("<i", f.read(4))
        f.read(8 + 3 * 8)  # properties, start, states, arcs
        return flags_at, flags, f.tell()
    except (struct.error, ValueError):
        return None


def input_symbols_span(path: Path) -> tuple[int, int, int] | None:
    """(flags offset, start, end) of the input symbol table in FST file ``path``, when it has
    one followed by an output table (the case cut by ``write_without_input_symbols``); else None."""
    with open(path, "rb") as f:
        found = _header(f)
        if found is None or found[1] & (HAS_ISYMBOLS | HAS_OSYMBOLS) != HAS_ISYMBOLS | HAS_OSYMBOLS:
            return None
        flags_at, _, start = found
        if f.read(4) != _TABLE:
            return None
        pos, tail = start + 4, b""
        while block := f.read(_BLOCK):  # the next table's magic ends the input table
            at = (tail + block).find(_TABLE)
            if at >= 0:
                return flags_at, start, pos - len(tail) + at
            tail, pos = block[-3:], pos + len(block)
    return None


def write_without_input_symbols(src: Path, dst: Path, span: tuple[int, int, int]) -> None:
    """Copy FST file ``src`` to ``dst`` without its input symbol table (``span`` from
    ``input_symbols_span``), its header's flag cleared to match."""
    flags_at, start, end = span
    with open(src, "rb") as f, open(dst, "wb") as out:
        head = bytearray(f.read(start))
        (flags,) = struct.unpack_from("<i", head, flags_at)
        struct.pack_into("<i", head, flags_at, flags & ~HAS_ISYMBOLS)
        out.write(head)
        f.seek(end)
        shutil.copyfileobj(f, out, _BLOCK)
