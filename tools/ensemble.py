#!/usr/bin/env python3
"""Join exported ONNX models into one ensemble model (mean of their probabilities), with a card.

The command; its code is tools/emocap_train/ensemble.py.
"""
import sys

from emocap_train.ensemble import main

if __name__ == "__main__":
    sys.exit(main())
