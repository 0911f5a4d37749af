#!/usr/bin/env python3
"""Evaluate an ONNX emotion model on a manifest, clip by clip, through the runtime's own path.

The command; its code is tools/emocap_train/evaluate.py.
"""
import sys

from emocap_train.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
