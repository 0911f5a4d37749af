"""emocap: offline speech captions with emotion tags for a wearable display."""

__version__ = "0.1.0"
