#!/usr/bin/env python3
"""Character and word error rates of the captions: through the pipeline vs. Vosk fed each file whole.

The command; its code is tools/emocap_train/asr_cer.py.
"""
import sys

from emocap_train.asr_cer import main

if __name__ == "__main__":
    sys.exit(main())
