"""Speech emotion: ONNX models, utterance classification and the dynamic model choice."""
