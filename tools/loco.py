#!/usr/bin/env python3
"""The leave-one-corpus-out yardstick: a recipe trained and evaluated once per held-out corpus.

The command; its code is tools/emocap_train/loco.py.
"""
import sys

from emocap_train.loco import main

if __name__ == "__main__":
    sys.exit(main())
