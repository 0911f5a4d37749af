#!/usr/bin/env python3
"""Measure emocap's costs on this machine, in one run: one JSON object with --json.

The command; its code is tools/emocap_train/bench.py.
"""
import sys

from emocap_train.bench import main

if __name__ == "__main__":
    sys.exit(main())
