#!/usr/bin/env python3
"""Give a model stream centring: the prior (from validation), weight and fade in its metadata.

The command; its code is tools/emocap_train/centre.py.
"""
import sys

from emocap_train.centre import main

if __name__ == "__main__":
    sys.exit(main())
