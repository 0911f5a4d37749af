#!/usr/bin/env python3
"""Extend a speaker split with the manifest's speakers it does not know yet, by speaker, sexes balanced.

The command; its code is tools/emocap_train/make_split.py.
"""
import sys

from emocap_train.make_split import main

if __name__ == "__main__":
    sys.exit(main())
