"""Where emocap finds its files: the config file a user means, and the files installed with it.

The default config, the two emotion models and the demo recording live in ``emocap/share``
inside the installed package (in a checkout, links to the top-level ``config.toml``,
``models/`` and ``demo/``), so they are found beside the code wherever pip put it, never
through the layout of a checkout.

Which config file, first match wins: ``--config`` (or check-config's PATH), then
``$EMOCAP_CONFIG``, then ``/etc/emocap/config.toml`` when it exists, then the packaged default.
"""
from __future__ import annotations

import os
from pathlib import Path

SHARE = Path(__file__).resolve().parent / "share"
PACKAGED_CONFIG = SHARE / "config.toml"
SYSTEM_CONFIG = Path("/etc/emocap/config.toml")
CONFIG_ENV = "EMOCAP_CONFIG"
DEMO = SHARE / "demo" / "demo_ko.flac"


def config_file(explicit: str | Path | None = None) -> tuple[Path, str]:
    """The config file to read, and where its name came from (for error messages)."""
    if explicit:
        return Path(explicit), "--config"
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV]), f"${CONFIG_ENV}"
    if SYSTEM_CONFIG.is_file():
        return SYSTEM_CONFIG, "the system config"
    return PACKAGED_CONFIG, "the packaged default"
