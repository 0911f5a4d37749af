#!/usr/bin/env python3
"""Compare INT8 quantisation choices for one checkpoint on VALIDATION windows (never test).

The command; its code is tools/emocap_train/quant_compare.py.
"""
import sys

from emocap_train.quant_compare import main

if __name__ == "__main__":
    sys.exit(main())
