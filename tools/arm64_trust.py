"""Carry this host's trust for PyPI into a chroot (used by tools/check_arm64.sh).

    python3 tools/arm64_trust.py certs ROOT   # host CA certificates the root lacks -> ROOT's local CA folder
    python3 tools/arm64_trust.py pipconf      # the host's pip settings that make sense there, as pip.conf

A host behind a TLS-inspecting proxy trusts certificates Debian's ``ca-certificates`` does not
ship; pip in the root then fails with CERTIFICATE_VERIFY_FAILED. ``certs`` writes each
certificate of the bundle the host's pip uses that is not among the root's packaged ones to
``ROOT/usr/local/share/ca-certificates/emocap-host/`` (``update-ca-certificates`` in the root
then adds them to its bundle). ``pipconf`` keeps what reaches an index from anywhere (http(s)
index URLs, trusted hosts, proxy, timeouts) and drops paths that exist only on this host
(local wheel folders, file:// indexes, constraint files), and names the root's CA bundle.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
LOCAL_DIR = "usr/local/share/ca-certificates/emocap-host"
PEM = re.compile(r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----")
KEEP = {"default-timeout", "timeout", "retries", "proxy", "trusted-host", "disable-pip-version-check"}
URL_KEYS = {"index-url", "extra-index-url"}


def pip_settings() -> dict[str, str]:
    """``pip config list`` of this interpreter as key -> value; environment entries win."""
    out = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True,
                         text=True, check=False).stdout
    settings: dict[str, str] = {}
    for line in sorted(out.splitlines(), key=lambda s: not s.startswith(":env:")):
        name, sep, value = line.partition("=")
        if sep:
            settings.setdefault(name.split(".", 1)[-1], value.strip().strip("'\""))
    return settings


def certificates(text: str) -> dict[str, str]:
    """PEM blocks of a bundle keyed by their base64 body (whitespace removed)."""
    return {re.sub(r"\s", "", m.group(0)): m.group(0) for m in PEM.finditer(text)}


def carry_certs(root: Path) -> int:
    """Write the host certificates missing from the root's packaged ones; return how many."""
    host_bundle = Path(pip_settings().get("cert") or ROOT_BUNDLE)
    host = certificates(host_bundle.read_text(encoding="ascii", errors="replace"))
    packaged: dict[str, str] = {}
    for crt in (root / "usr/share/ca-certificates").rglob("*.crt"):
        packaged.update(certificates(crt.read_text(encoding="ascii", errors="replace")))
    out = root / LOCAL_DIR
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.crt"):
        old.unlink()
    missing = [pem for key, pem in host.items() if key not in packaged]
    for n, pem in enumerate(missing):
        (out / f"host-{n:02d}.crt").write_text(pem + "\n", encoding="ascii")
    return len(missing)


def pip_conf() -> str:
    lines = ["[global]", f"cert = {ROOT_BUNDLE}"]
    for key, value in pip_settings().items():
        if key in URL_KEYS:
            value = " ".join(u for u in value.split() if u.startswith(("http://", "https://")))
        elif key not in KEEP:
            continue
        if value:
            lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if argv[:1] == ["certs"] and len(argv) == 2:
        print(f"arm64_trust: {carry_certs(Path(argv[1]))} host CA certificates carried", file=sys.stderr)
    elif argv == ["pipconf"]:
        sys.stdout.write(pip_conf())
    else:
        print("\n".join(__doc__.strip().splitlines()[2:4]), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
