#!/usr/bin/env python3
"""Re-quantise a shipped QDQ model from its own float weights, and take members out of ensembles.

The command; its code is tools/emocap_train/requantise.py.
"""
import sys

from emocap_train.requantise import main

if __name__ == "__main__":
    sys.exit(main())
