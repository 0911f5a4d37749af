"""``emocap stats [--log PATH] [--config PATH] [--json] [--plot PNG]`` (emocap/stats.py)."""
from emocap.stats import HELP, NAME, add_arguments
from emocap.stats import run as main

__all__ = ["NAME", "HELP", "add_arguments", "main"]
