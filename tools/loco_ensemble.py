#!/usr/bin/env python3
"""Ensembles of leave-one-corpus-out fold models, scored on the yardstick (members chosen on validation).

The command; its code is tools/emocap_train/loco_ensemble.py.
"""
import sys

from emocap_train.loco_ensemble import main

if __name__ == "__main__":
    sys.exit(main())
