#!/usr/bin/env python3
"""Recompute a shipped model's test-split metrics into its card (after re-quantising or calibrating).

The command; its code is tools/emocap_train/card_metrics.py.
"""
import sys

from emocap_train.card_metrics import main

if __name__ == "__main__":
    sys.exit(main())
