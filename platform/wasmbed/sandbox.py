"""Running an untrusted build - a compiler fed a stranger's source - so that it can read
nothing but its own work dir and the toolchain, reach no network, and is bounded in CPU,
memory, wall time, file size and output.

A compiler is a file reader with a programming language in front of it: `#include "/etc/x"`
or `.incbin "<key file>"` turn a compile request into a file download. Limits on the
process alone do not stop that; a separate mount namespace does. We use bubblewrap
(Debian's `bubblewrap`): a fresh user, PID, network, IPC and UTS namespace, `/usr` read-only,
the work dir the only writable place, no `/etc`, no home, no data dir of ours - so the API
server's CA keys and token do not exist inside. rlimits bound what namespaces do not.
"""

from __future__ import annotations

import functools
import os
import resource
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = "apt-get install -y bubblewrap"


class SandboxUnavailable(Exception):
    """No working sandbox here; the message says what to install or enable."""


@dataclass(frozen=True)
class Limits:
    cpu_s: int = 30
    wall_s: float = 30.0
    memory_bytes: int = 1024 * 1024 * 1024
    file_bytes: int = 16 * 1024 * 1024  # any file it writes, the output too
    output_bytes: int = 64 * 1024  # what we keep of its stdout + stderr
    open_files: int = 256


@dataclass(frozen=True)
class Outcome:
    code: int
    output: str  # stdout + stderr, at most Limits.output_bytes of it
    timed_out: bool = False
    cut_bytes: int = 0  # output beyond the cap, dropped

    @property
    def ok(self) -> bool:
        return self.code == 0 and not self.timed_out


def _host_root_entries() -> list[str]:
    """bwrap arguments recreating /bin, /lib, /lib64, /sbin as the host has them (symlinks
    into /usr on merged-/usr systems, read-only dirs elsewhere)."""
    args: list[str] = []
    for entry in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        path = Path(entry)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), entry]
        elif path.is_dir():
            args += ["--ro-bind", entry, entry]
    return args


def bwrap_argv(workdir: Path, argv: Sequence[str], *, readonly: Sequence[Path] = (),
               env: dict[str, str] | None = None) -> list[str]:
    """The bubblewrap command line running `argv` in `workdir` (mounted at /work)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable(f"bubblewrap (bwrap) is not installed: {INSTALL_HINT}")
    args = [bwrap, "--unshare-all", "--die-with-parent", "--new-session",
            "--cap-drop", "ALL", "--ro-bind", "/usr", "/usr", *_host_root_entries(),
            "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
            "--bind", str(workdir), "/work", "--chdir", "/work", "--clearenv",
            "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/work",
            "--setenv", "TMPDIR", "/tmp", "--setenv", "LANG", "C.UTF-8"]
    for extra in readonly:  # toolchains living outside /usr (rustup's sysroot)
        args += ["--ro-bind", str(extra), str(extra)]
    for key, value in (env or {}).items():
        args += ["--setenv", key, value]
    return [*args, "--", *argv]


def _apply_limits(limits: Limits) -> None:  # in the child, before exec
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run(argv: Sequence[str], workdir: Path, limits: Limits = Limits(), *,
        readonly: Sequence[Path] = (), env: dict[str, str] | None = None) -> Outcome:
    """Run `argv` sandboxed in `workdir`; the whole process tree is killed at the wall-time
    limit. Raises SandboxUnavailable when bubblewrap is missing or cannot create
    namespaces here."""
    check_available()
    command = bwrap_argv(workdir, argv, readonly=readonly, env=env)
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=functools.partial(_apply_limits, limits))
        timed_out = False
        try:
            code = proc.wait(limits.wall_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
            code = proc.wait()
        _kill_group(proc)  # anything it left behind in its session
        size = out.tell()
        out.seek(0)
        kept = out.read(limits.output_bytes)
    text = kept.decode("utf-8", errors="replace")
    return Outcome(code, text, timed_out, max(0, size - len(kept)))


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@functools.cache
def _probe() -> str | None:
    """None when a sandbox can be created here, else why not."""
    try:
        command = bwrap_argv(Path(tempfile.gettempdir()), ["/bin/true"])
    except SandboxUnavailable as exc:
        return str(exc)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bubblewrap could not start: {exc}"
    if done.returncode != 0:
        return ("bubblewrap cannot create namespaces here "
                f"({done.stderr.strip() or done.returncode}); enable unprivileged user "
                "namespaces (sysctl kernel.unprivileged_userns_clone=1) or run as root")
    return None


def missing() -> str | None:
    """Why untrusted builds cannot run here (what to install or enable), or None."""
    return _probe()


def check_available() -> None:
    if (why := _probe()) is not None:
        raise SandboxUnavailable(why)


def hiding_prefix(hidden: Sequence[Path]) -> list[str]:
    """A command prefix that runs a trusted helper (an emulator the API starts) with the host
    as it is, minus `hidden`: directories become empty, files empty and read-only. For
    helpers that need the network and our files, but never our secrets. Raises
    SandboxUnavailable when bubblewrap cannot run here."""
    check_available()
    bwrap = shutil.which("bwrap")
    assert bwrap is not None
    args = [bwrap, "--dev-bind", "/", "/", "--die-with-parent"]
    for path in hidden:
        if path.is_dir():
            args += ["--tmpfs", str(path)]
        elif path.exists():
            args += ["--ro-bind", "/dev/null", str(path)]
    return [*args, "--"]
