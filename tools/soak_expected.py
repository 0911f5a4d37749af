#!/usr/bin/env python3
"""Utterances expected per file in a soak: the finals Vosk gives for the file decoded alone.

The command; its code is tools/emocap_train/soak_expected.py.
"""
import sys

from emocap_train.soak_expected import main

if __name__ == "__main__":
    sys.exit(main())
