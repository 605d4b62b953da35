"""Runs LSL work with no way off this machine: a private network namespace holding only loopback,
and an lsl_api.cfg that resolves on the machine only (no IPv6, 127.0.0.1 the one known peer).

LSL finds streams by multicast; the tests and the LSL benchmark create outlets and inlets only
through `run_isolated`, and `enter_checked` refuses to go on where any interface besides loopback
is visible. `python -m fer_live.bench.netns COMMAND…` runs a command the same way (manual trials).
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

# [log] level -3: liblsl's INFO/ERR lines (e.g. "no local network interface") are expected here.
LSL_API_CFG = """[ports]
IPv6 = disable

[multicast]
ResolveScope = machine

[lab]
KnownPeers = {127.0.0.1}

[log]
level = -3
"""
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1


def namespace_unavailable() -> str | None:
    """Why a private network namespace cannot be made here (None when it can)."""
    if sys.platform != "linux":
        return "private network namespaces need Linux"
    if shutil.which("unshare") is None:
        return "the unshare command (util-linux) is not installed"
    try:
        done = subprocess.run(["unshare", "-rn", "true"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare -rn failed: {exc}"
    if done.returncode != 0:
        return f"unshare -rn is not permitted here: {done.stderr.strip() or done.returncode}"
    return None


def inside() -> bool:
    """True in a namespace entered through `enter_checked`: loopback alone, liblsl pointed at a config."""
    return [name for _, name in socket.if_nameindex()] == ["lo"] and bool(os.environ.get("LSLAPICFG"))


def write_config(folder: Path, text: str = LSL_API_CFG) -> Path:
    path = Path(folder) / "lsl_api.cfg"
    path.write_text(text)
    return path


def isolated_command(argv: list[str], config: Path) -> list[str]:
    """`argv` run inside a new user + network namespace, after `enter_checked`."""
    return ["unshare", "-rn", sys.executable, "-m", "fer_live.bench.netns", "--inside", str(config), "--", *argv]


def run_isolated(argv: list[str], config: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    """subprocess.run of `argv` in the namespace (kwargs as for subprocess.run), with `config` or
    LSL_API_CFG as its lsl_api.cfg."""
    with tempfile.TemporaryDirectory(prefix="fer_live_lsl_") as folder:
        return subprocess.run(isolated_command(argv, config or write_config(Path(folder))), **kwargs)


def enter_checked(config: Path) -> None:
    """Inside the new namespace: check loopback is the only interface, bring it up, point liblsl at `config`."""
    names = [name for _, name in socket.if_nameindex()]
    if names != ["lo"]:
        raise SystemExit(f"fer_live.bench.netns: refusing to run: interfaces {names} besides loopback are visible")
    import fcntl  # Unix only; the module itself stays importable elsewhere (namespace_unavailable says why not)

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        request = struct.pack("16sH", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(probe, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(probe, _SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | _IFF_UP))
    os.environ["LSLAPICFG"] = str(config)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    config = None
    if args[:1] == ["--inside"]:
        config, args = Path(args[1]), args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        print("usage: python -m fer_live.bench.netns -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    if config is None:
        reason = namespace_unavailable()
        if reason:
            print(f"fer_live.bench.netns: {reason}", file=sys.stderr)
            return 2
        return run_isolated(args).returncode
    enter_checked(config)
    os.execvp(args[0], args)


if __name__ == "__main__":
    sys.exit(main())
