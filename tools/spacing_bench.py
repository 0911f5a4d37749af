#!/usr/bin/env python3
"""Korean spacing (kiwipiepy): its cost per caption, its memory, and how Kiwi's options score.

The command; its code is tools/emocap_train/spacing_bench.py.
"""
import sys

from emocap_train.spacing_bench import main

if __name__ == "__main__":
    sys.exit(main())
