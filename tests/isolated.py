"""Run pytest inside a loopback-only network namespace: `python -m tests.isolated [pytest args]`.

The real CLIs (Claude Code, Codex, Gemini CLI) try to reach their vendors' hosts; in a fresh
network namespace only `lo` exists, so no test can send a packet off this machine. Needs root or
unprivileged user namespaces. It only isolates and execs pytest; it sets up nothing else.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import socket
import struct
import sys

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def isolated() -> bool:
    """True when the only network interface in this namespace is loopback."""
    return [name for _, name in socket.if_nameindex()] == ["lo"]


def _unshare(flags: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(flags) != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def enter_namespace() -> None:
    uid, gid = os.getuid(), os.getgid()
    try:
        _unshare(CLONE_NEWNET)
    except PermissionError:  # not root: a user namespace maps us to root inside it
        _unshare(CLONE_NEWUSER | CLONE_NEWNET)
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write(f"0 {uid} 1")
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"0 {gid} 1")
    _loopback_up()


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sh22x", b"lo", 0)
        flags = struct.unpack("16sh22x", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sh22x", b"lo", flags | IFF_UP))


def main() -> None:
    if not isolated():
        try:
            enter_namespace()
        except OSError as exc:
            sys.exit(f"error: cannot create a loopback-only network namespace: {exc}")
    os.execvp(sys.executable, [sys.executable, "-m", "pytest", *sys.argv[1:]])


if __name__ == "__main__":
    main()
