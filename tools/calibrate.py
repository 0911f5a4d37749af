#!/usr/bin/env python3
"""Calibrate confidences on VALIDATION utterances (never test): temperature, show and cascade thresholds.

The command; its code is tools/emocap_train/calibrate.py.
"""
import sys

from emocap_train.calibrate import main

if __name__ == "__main__":
    sys.exit(main())
