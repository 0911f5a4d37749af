"""Copy N Korean clips of ../shared, spread over its manifest, for ``check_arm64.sh --files N``.

    python tools/arm64_files.py N DEST

Every (total // N)-th row of asr/ko/manifest.csv from the first, as DEST/01.flac, 02.flac, ... (the source's suffix)
(zero-padded, so a shell glob plays them in manifest order on both machines).
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from emocap_train import shared_data
from emocap_train.asr_cer import read_manifest


def pick(rows: list[dict], n: int) -> list[dict]:
    """``n`` rows spread evenly from the first (all of them when there are fewer)."""
    return rows[:: max(1, len(rows) // n)][:n] if n > 0 else []


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[0].isdigit():
        print("usage: arm64_files.py N DEST", file=sys.stderr)
        return 2
    rows = pick(read_manifest(shared_data() / "asr" / "ko" / "manifest.csv", 0), int(argv[0]))
    dest = Path(argv[1])
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    width = len(str(len(rows)))
    for i, row in enumerate(rows, 1):
        shutil.copyfile(row["file"], dest / f"{i:0{width}d}{Path(row['path']).suffix}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
