#!/usr/bin/env python3
"""What each memory cut saves (Gr.fst's word list, scipy.signal, onnxruntime's arena), in fresh processes.

The command; its code is tools/emocap_train/memory_cuts.py.
"""
import sys

from emocap_train.memory_cuts import main

if __name__ == "__main__":
    sys.exit(main())
