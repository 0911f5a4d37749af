"""The training side of emocap: data, models, training, export, evaluation and benchmarks.

The commands in tools/ are thin scripts over these modules. The package lives beside them,
outside the wheel (pyproject finds packages in daemon/ only), so torch never reaches the
device: the runtime is ``emocap`` alone.

Importing it puts this checkout's daemon/ first on sys.path, so training, export and the
benchmarks use the feature extractor and model loader of the runtime beside them, whether or
not (or wherever) emocap is installed.
"""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "daemon") not in sys.path:
    sys.path.insert(0, str(ROOT / "daemon"))


def shared_data() -> Path:
    """The shared data folder: $EMOCAP_DATA, else shared/data in the nearest ancestor folder."""
    if os.environ.get("EMOCAP_DATA"):
        return Path(os.environ["EMOCAP_DATA"])
    return next((p / "shared" / "data" for p in ROOT.parents if (p / "shared" / "data").is_dir()),
                ROOT.parent / "shared" / "data")
