#!/usr/bin/env bash
# Prove the README's install and the demo's captions on arm64 (Raspberry Pi 4 / 5) from an
# x86_64 Debian 12 host: a Debian 12 arm64 root (debootstrap, run through qemu-user-static),
# a user "pi" with sudo as on Pi OS, `./tools/setup.sh` on a copy of this checkout, then
# `emocap replay demo/demo_ko.flac --json` under a Cortex-A72 (Pi 4) and a Cortex-A76 (Pi 5)
# CPU model, compared with the same replay on this host (text, label, model, confidence).
#
#   sudo tools/check_arm64.sh [--fresh] [--files N] [ROOT [OUT]]
#
# --files N also replays N of ../shared's Korean files (spread over its manifest) under the
# Cortex-A76 and on this host, and prints their comparison before the demo's (the exit status
# stays the demo's: near-ties of Vosk's decoder tip either way between builds, see README).
#
# ROOT (default /var/tmp/emocap-arm64) holds base/ (the bare debootstrap, made once) and
# upper/ (an overlay with what setup.sh added; kept, so a rerun takes minutes; --fresh drops
# it to set up again as on a new Pi). OUT (default ROOT-out) gets the logs, the captions of
# each run and the table. Exit 0 when every run matches, 1 on a mismatch or a failed step.
# Slow (emulation): about an hour the first time. Not run by CI. Needs root (debootstrap,
# chroot, mounts) and binfmt_misc. X86_PYTHON (default .venv/bin/python) runs the x86 replay.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
FRESH=0 FILES=0
while [[ "${1:-}" == --* ]]; do
    case $1 in
        --fresh) FRESH=1 ;;
        --files) FILES=${2:?--files needs a count}; shift ;;
        *) echo "check_arm64: unknown option $1 (expected --fresh or --files N)" >&2; exit 2 ;;
    esac
    shift
done
ROOT=$(realpath -m "${1:-/var/tmp/emocap-arm64}")
OUT=$(realpath -m "${2:-$ROOT-out}")
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
X86_PYTHON=${X86_PYTHON:-$REPO/.venv/bin/python}
CPUS=(cortex-a72 cortex-a76)
APP=/home/pi/emocap
BASE=$ROOT/base

say() { echo "check_arm64: $*" >&2; }
die() { say "$*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, mounts): sudo $0 $*"
[ "$(uname -m)" = x86_64 ] || die "host is $(uname -m); run tools/setup.sh directly on arm64"
[ -x "$X86_PYTHON" ] || die "X86_PYTHON=$X86_PYTHON: no such interpreter (run tools/setup.sh, or set X86_PYTHON)"
mkdir -p "$ROOT" "$OUT"

host_packages() {
    local missing=()
    for pkg in debootstrap qemu-user-static binfmt-support; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    ((${#missing[@]} == 0)) || { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; }
}

# The kernel runs arm64 programs through qemu when binfmt_misc has an entry for them. The C
# (credentials) flag lets setuid programs such as sudo keep their rights under emulation;
# Debian's entry lacks it, so it is registered again with it (F: the interpreter is opened
# now, so the root needs no copy of it).
binfmt() {
    local d=/proc/sys/fs/binfmt_misc e=/proc/sys/fs/binfmt_misc/qemu-aarch64 magic mask interp
    [ -e $d/register ] || mount -t binfmt_misc binfmt_misc $d ||
        die "cannot mount binfmt_misc on $d: arm64 programs cannot run here (needs a VM or a privileged container)"
    [ -e $e ] || update-binfmts --enable qemu-aarch64 || die "cannot register qemu-aarch64 in binfmt_misc"
    grep -q '^flags: .*C' $e && return
    magic=$(sed -n 's/^magic //p' $e | sed 's/../\\x&/g')
    mask=$(sed -n 's/^mask //p' $e | sed 's/../\\x&/g')
    interp=$(sed -n 's/^interpreter //p' $e)
    echo -1 > $e
    echo ":qemu-aarch64:M:0:$magic:$mask:$interp:PFC" > $d/register
}

make_base() {
    [ -f "$BASE/etc/debian_version" ] && [ ! -d "$BASE/debootstrap" ] && return
    [ ! -e "$BASE" ] || [ -d "$BASE/debootstrap" ] || die "$BASE exists but is no debootstrap root; remove it"
    rm -rf "$BASE"
    say "debootstrap bookworm arm64 into $BASE (ca-certificates and sudo, as Pi OS has them)"
    debootstrap --arch=arm64 --include=ca-certificates,sudo bookworm "$BASE" "$MIRROR" > "$OUT/debootstrap.log" 2>&1 ||
        die "debootstrap failed: $OUT/debootstrap.log"
}

# A Pi's /proc/cpuinfo (qemu-user would show the x86 host's, on which onnxruntime crashed), one
# block per host CPU so that it agrees with /sys.
cpuinfo() {
    local part variant rev features model board
    case $1 in
        cortex-a72) part=0xd08 variant=0x0 rev=3 features="fp asimd evtstrm crc32 cpuid"
                    model="Raspberry Pi 4 Model B Rev 1.4" board=c03114 ;;
        cortex-a76) part=0xd0b variant=0x4 rev=1 model="Raspberry Pi 5 Model B Rev 1.0" board=d04170
                    features="fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp" ;;
    esac
    for ((i = 0; i < $(nproc); i++)); do
        printf 'processor\t: %d\nBogoMIPS\t: 108.00\nFeatures\t: %s\nCPU implementer\t: 0x41\n' $i "$features"
        printf 'CPU architecture: 8\nCPU variant\t: %s\nCPU part\t: %s\nCPU revision\t: %s\n\n' $variant $part $rev
    done
    printf 'Revision\t: %s\nSerial\t\t: 10000000e3a1f00d\nModel\t\t: %s\n' $board "$model"
}

# in_root LAYER CPU USER COMMAND: run a bash command in the root (LAYER base: the bare root;
# merged: base + upper/) as USER under QEMU_CPU=CPU, with proc, sys, dev and a Pi cpuinfo
# mounted in a private mount namespace (nothing stays mounted afterwards).
in_root() {
    local layer=$1 cpu=$2 user=$3 cmd=$4 proxies=()
    for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
        [ -n "${!v:-}" ] && proxies+=("$v=${!v}")
    done
    cpuinfo "$cpu" > "$OUT/cpuinfo-$cpu"
    mkdir -p "$ROOT/upper" "$ROOT/work" "$ROOT/merged"
    QEMU_CPU=$cpu unshare --mount --propagation private -- /bin/bash -c '
        set -e; root=$1 layer=$2 cpuinfo=$3; shift 3
        if [ "$layer" = merged ]; then
            mount -t overlay overlay -o "lowerdir=$root/base,upperdir=$root/upper,workdir=$root/work" "$root/merged"
        fi
        root=$root/$layer
        mount -t proc proc "$root/proc"; mount --bind "$cpuinfo" "$root/proc/cpuinfo"
        mount -t sysfs sysfs "$root/sys"; mount --rbind /dev "$root/dev"
        exec chroot "$root" /usr/bin/env -i "$@"' _ "$ROOT" "$layer" "$OUT/cpuinfo-$cpu" \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb \
        QEMU_CPU="$cpu" "${proxies[@]}" /usr/sbin/runuser -u "$user" -- /bin/bash -c "$cmd"
}

# What a Pi has that a bare debootstrap lacks: DNS, its host name, the user pi (sudo without password), and
# here also this host's trust: the CA certificates its own pip uses and the pip settings that
# make sense in the root (http(s) indexes, timeouts, proxy; not local wheel folders), written
# to /etc/pip.conf with the root's CA bundle, which then includes the host's certificates.
prepare_base() {
    local carried=$BASE/usr/local/share/ca-certificates/emocap-host state
    cp --remove-destination /etc/resolv.conf "$BASE/etc/resolv.conf"
    # The root shares this host's name; sudo warns on every call if it cannot resolve it.
    grep -qw "$(hostname)" "$BASE/etc/hosts" || echo "127.0.1.1	$(hostname)" >> "$BASE/etc/hosts"
    "$X86_PYTHON" "$REPO/tools/arm64_trust.py" certs "$BASE" || die "cannot carry the host's CA certificates"
    "$X86_PYTHON" "$REPO/tools/arm64_trust.py" pipconf > "$BASE/etc/pip.conf"
    state=$(cat "$carried"/*.crt 2>/dev/null | md5sum)
    [ "$state" = "$(cat "$carried.done" 2>/dev/null)" ] && grep -q "^pi:" "$BASE/etc/passwd" && return
    in_root base cortex-a72 root 'update-ca-certificates > /dev/null 2>&1
        id pi > /dev/null 2>&1 || useradd -m -s /bin/bash -G sudo pi
        echo "pi ALL=(ALL) NOPASSWD: ALL" > /etc/sudoers.d/010_pi-nopasswd; chmod 440 /etc/sudoers.d/010_pi-nopasswd'
    echo "$state" > "$carried.done"  # update-ca-certificates is slow under emulation: once per change
}

# The checkout's files (tracked and untracked, not ignored) into OUT/src, used by both sides.
copy_checkout() {
    rm -rf "$OUT/src" && mkdir -p "$OUT/src"
    (cd "$REPO" && git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
        tar --null -T - -cf -) | tar -xf - -C "$OUT/src"
    # The comparison holds the mode: dynamic switching follows measured speed, which differs.
    sed 's/^dynamic *= *true/dynamic = false/' "$OUT/src/config.toml" > "$OUT/src/check-arm64.toml"
    grep -q '^dynamic = false' "$OUT/src/check-arm64.toml" || die "config.toml: no [mode] dynamic key to hold"
    ((FILES)) && { "$X86_PYTHON" "$REPO/tools/arm64_files.py" "$FILES" "$OUT/src/check-files" || die "cannot copy the --files clips"; }
    return 0
}

timed() {  # timed NAME COMMAND...: stdout to OUT/NAME.out, stderr to OUT/NAME.log, seconds to OUT/NAME.seconds
    local name=$1 t0=$SECONDS rc=0
    shift
    "$@" > "$OUT/$name.out" 2> "$OUT/$name.log" || rc=$?
    echo $((SECONDS - t0)) > "$OUT/$name.seconds"
    ((rc == 0)) || { tail -n 20 "$OUT/$name.log" >&2; die "$name failed (exit $rc): $OUT/$name.log"; }
}
# First line of each replay's log: the machine, its CPU features as the kernel (here qemu)
# reports them (AT_HWCAP: the A76 adds atomics and the int8 dot product), and the versions.
PROBE='import ctypes, onnxruntime, numpy, platform
libc = ctypes.CDLL(None); libc.getauxval.restype = ctypes.c_ulong
hwcap = f" hwcap {hex(libc.getauxval(16))}" if platform.machine() == "aarch64" else ""
print(f"{platform.machine()}{hwcap} onnxruntime {onnxruntime.__version__} numpy {numpy.__version__}")'
ARGS="replay demo/demo_ko.flac --json --config check-arm64.toml"
setup() { in_root merged cortex-a72 pi "cd $APP && ./tools/setup.sh"; }
replay() {
    in_root merged "$1" pi "cd $APP && .venv/bin/python -c $(printf %q "$PROBE") >&2 && .venv/bin/emocap $ARGS"
}
x86() (
    cd "$OUT/src" && "$X86_PYTHON" -c "$PROBE" >&2 && PYTHONPATH=$OUT/src/daemon "$X86_PYTHON" -m emocap.cli $ARGS
)
FILE_ARGS="replay check-files/* --json --config check-arm64.toml"
files_arm64() { in_root merged cortex-a76 pi "cd $APP && .venv/bin/emocap $FILE_ARGS"; }
files_x86() (cd "$OUT/src" && PYTHONPATH=$OUT/src/daemon "$X86_PYTHON" -m emocap.cli $FILE_ARGS)
files_check() {  # --files N: the clips under the A76 and here; the table, never the exit status
    say "--files $FILES: replay under cortex-a76 and on this host"
    timed files-cortex-a76 files_arm64
    timed files-x86 files_x86
    echo "--files $FILES ($(ls "$OUT/src/check-files" | wc -l) clips of asr/ko), cortex-a76 $(cat "$OUT/files-cortex-a76.seconds") s:"
    "$X86_PYTHON" "$REPO/tools/arm64_compare.py" --ref-name "$(uname -m)" "$OUT/files-x86.out" \
        "cortex-a76=$OUT/files-cortex-a76.out" || true
}

main() {
    local t_start=$SECONDS
    host_packages
    binfmt
    make_base
    prepare_base
    copy_checkout
    ((FRESH)) && { say "--fresh: dropping $ROOT/upper"; rm -rf "$ROOT/upper" "$ROOT/work"; }
    mkdir -p "$ROOT/upper$APP" && find "$ROOT/upper$APP" -mindepth 1 -maxdepth 1 ! -name .venv -exec rm -rf {} +
    cp -a "$OUT/src/." "$ROOT/upper$APP/"
    chown -R "$(awk -F: '$1 == "pi" {print $3 ":" $4}' "$BASE/etc/passwd")" "$ROOT/upper/home/pi"
    say "setup.sh in the root (Cortex-A72, as user pi): $OUT/setup.log"
    timed setup setup
    for cpu in "${CPUS[@]}"; do
        say "replay under $cpu: $OUT/$cpu.log"
        timed "$cpu" replay "$cpu"
    done
    say "replay on this host ($(uname -m))"
    timed x86 x86
    {
        ((FILES)) && files_check
        echo "emocap demo captions, arm64 (qemu-user $(qemu-aarch64-static --version | sed -n '1s/.*version //p')) vs $(uname -m)"
        for run in x86 "${CPUS[@]}"; do
            echo "$run: $(head -n 1 "$OUT/$run.log"), replay $(cat "$OUT/$run.seconds") s"
        done | sed 's/^x86:/x86_64:/'
        echo "setup.sh: $(cat "$OUT/setup.seconds") s; whole check: $((SECONDS - t_start)) s"
        "$X86_PYTHON" "$REPO/tools/arm64_compare.py" --ref-name "$(uname -m)" "$OUT/x86.out" \
            "cortex-a72=$OUT/cortex-a72.out" "cortex-a76=$OUT/cortex-a76.out"
    } | tee "$OUT/table.txt"  # pipefail: the script's status is the comparison's
}

# One line, read whole before it runs: editing this file during a (long) run is safe.
main; exit
