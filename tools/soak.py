#!/usr/bin/env python3
"""Soak: hours of distinct speech through the real service, as fast as it goes.

The command; its code is tools/emocap_train/soak.py.
"""
import sys

from emocap_train.soak import main

if __name__ == "__main__":
    sys.exit(main())
