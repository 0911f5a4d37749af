#!/usr/bin/env python3
"""Rank trained models and their ensembles on the VALIDATION part of the split (never test).

The command; its code is tools/emocap_train/select_models.py.
"""
import sys

from emocap_train.select_models import main

if __name__ == "__main__":
    sys.exit(main())
