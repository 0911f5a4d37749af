#!/usr/bin/env python3
"""An FP32 twin of a QDQ INT8 ONNX model: the same graph with float compute.

The command; its code is tools/emocap_train/qdq_float.py.
"""
import sys

from emocap_train.qdq_float import main

if __name__ == "__main__":
    sys.exit(main())
