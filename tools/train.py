#!/usr/bin/env python3
"""Train a speech-emotion model on manifests, with the committed speaker-independent split.

The command; its code is tools/emocap_train/train.py.
"""
import sys

from emocap_train.train import main

if __name__ == "__main__":
    sys.exit(main())
