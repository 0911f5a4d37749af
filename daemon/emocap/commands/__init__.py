"""Subcommands of ``emocap``; see emocap/cli.py for how they are registered."""
