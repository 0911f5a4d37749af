#!/usr/bin/env python3
"""A probe: a linear model on speaker-centred utterance functionals on the leave-one-corpus-out yardstick.

The command; its code is tools/emocap_train/functional_probe.py.
"""
import sys

from emocap_train.functional_probe import main

if __name__ == "__main__":
    sys.exit(main())
