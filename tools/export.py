#!/usr/bin/env python3
"""Export a trained checkpoint to ONNX (opset 17) with its metadata and a model card.

The command; its code is tools/emocap_train/export.py.
"""
import sys

from emocap_train.export import main

if __name__ == "__main__":
    sys.exit(main())
