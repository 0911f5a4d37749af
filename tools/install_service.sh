#!/usr/bin/env bash
# Install emocap as a systemd service (run as root on the device, from a checkout):
#
#   sudo tools/install_service.sh [--prefix /opt/emocap] [--venv PATH] [--no-start]
#   tools/install_service.sh --root DIR        # stage the files under DIR only (no users, pip, systemctl)
#
# What it does: creates the system user `emocap` (groups audio, i2c, gpio, spi), a virtual
# environment at PREFIX/venv with emocap installed from this checkout (`pip install .`: the
# wheel carries the models, the demo and the default config), writes /etc/emocap/config.toml
# unless one exists (the shipped config with its model and demo paths commented out, so the
# installed ones are used; perf log and transcript in /var/lib/emocap), installs
# systemd/emocap.service with ExecStart pointing at the venv, checks it with systemd-analyze
# verify, then enables and starts it.
# Needs (apt): python3-venv, pkg-config, portaudio19-dev, libsystemd-dev, fonts-nanum.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX=/opt/emocap
VENV=""
ROOT=""
START=1
GROUPS_WANTED="audio i2c gpio spi"

die() { echo "install_service: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) PREFIX="${2:?--prefix needs a folder}"; shift 2 ;;
        --venv) VENV="${2:?--venv needs a folder}"; shift 2 ;;
        --root) ROOT="${2:?--root needs a folder}"; shift 2 ;;
        --no-start) START=0; shift ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done
VENV="${VENV:-$PREFIX/venv}"
STAGE="${ROOT:+$(mkdir -p "$ROOT" && cd "$ROOT" && pwd)}"   # "" for a real install

[ -n "$STAGE" ] || [ "$(id -u)" -eq 0 ] || die "run as root (sudo), or stage with --root DIR"
[ -f "$REPO/systemd/emocap.service" ] || die "$REPO/systemd/emocap.service not found; run from a checkout"
[ -f "$REPO/models/small.onnx" ] && [ -f "$REPO/models/large.onnx" ] \
    || die "$REPO/models/small.onnx or large.onnx missing; build the models first"

create_user() {
    for g in $GROUPS_WANTED; do
        getent group "$g" >/dev/null || groupadd --system "$g"   # systemd refuses unknown groups
    done
    getent passwd emocap >/dev/null || useradd --system --user-group --no-create-home \
        --home-dir /var/lib/emocap --shell /usr/sbin/nologin emocap
    usermod -a -G "$(echo $GROUPS_WANTED | tr ' ' ,)" emocap
}

install_venv() {
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet "$REPO[device]"
    [ -x "$VENV/bin/emocap" ] || die "$VENV/bin/emocap missing after pip install"
}

write_config() {
    local dest="$STAGE/etc/emocap/config.toml"
    install -d "$STAGE/etc/emocap"
    if [ -e "$dest" ]; then
        echo "keeping existing $dest"
        return
    fi
    # Relative paths resolve against the config's own folder (/etc/emocap); a path key left
    # out means the file installed with emocap, so the model and demo lines become comments.
    {
        echo "# Written by tools/install_service.sh. small_model, large_model and demo_file are left out:"
        echo "# the files installed with emocap are used. Give absolute paths to use others."
        sed -e "s#^\(small_model\|large_model\|demo_file\) = #\# \1 = #" \
            -e "s#^log_path = \"[^\"]*\"#log_path = \"/var/lib/emocap/perf.jsonl\"#" \
            -e "s#^path = \"~/.local/state/emocap/transcript.jsonl\"#path = \"/var/lib/emocap/transcript.jsonl\"#" \
            "$REPO/config.toml"
    } > "$dest"
    chmod 0644 "$dest"
}

install_unit() {
    local dest="$STAGE/etc/systemd/system/emocap.service"
    install -d "$STAGE/etc/systemd/system"
    sed "s#^ExecStart=/opt/emocap/venv/bin/emocap #ExecStart=$VENV/bin/emocap #" \
        "$REPO/systemd/emocap.service" > "$dest"
    chmod 0644 "$dest"
    grep -q "^ExecStart=$VENV/bin/emocap run --config /etc/emocap/config.toml$" "$dest" \
        || die "could not point ExecStart at $VENV/bin/emocap"
}

if [ -z "$STAGE" ]; then
    create_user
    install_venv
fi
write_config
install_unit
if [ -z "$STAGE" ]; then
    "$VENV/bin/emocap" check-config /etc/emocap/config.toml
    systemd-analyze verify /etc/systemd/system/emocap.service
    systemctl daemon-reload
    if [ "$START" -eq 1 ]; then
        systemctl enable --now emocap.service
        echo "emocap started; follow it with: journalctl -u emocap -f"
    else
        systemctl enable emocap.service
        echo "emocap enabled; start it with: systemctl start emocap"
    fi
else
    echo "staged under $STAGE (no user, venv or systemctl changes)"
fi
