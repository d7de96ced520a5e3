"""Run one command as a child process and measure it: wall time, CPU time, and peak resident memory.

Peak memory is measured two ways, both without psutil:
- `peak_rss_bytes`: `ru_maxrss` from `os.wait4` on the child, i.e. the largest resident set any single process of
  the tree reached (Linux folds in the descendants the child waited for); exact, but not a sum over processes.
- `peak_tree_rss_bytes`: the largest sum of resident memory over the child and all its descendants, sampled from
  /proc every `interval` seconds; it sees every process alive at once (the Prefect server ism starts beside
  itself when it uses Prefect's temporary server; never a server it was pointed at), but may miss a peak shorter
  than the interval.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Measured:
    command: list[str]
    returncode: int
    wall_seconds: float
    cpu_seconds: float  # user + system time of the child and the descendants it waited for
    system_seconds: float  # of which in the kernel
    peak_rss_bytes: int
    peak_tree_rss_bytes: int
    stdout: str
    stderr: str
    killed_over_memory: bool = False  # the tree passed `memory_cap_bytes` and was killed


def _children() -> dict[int, list[int]]:
    """Parent pid -> child pids of every live process."""
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])  # after the command name, which may hold spaces
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its live descendants."""
    tree, total, stack = _children(), 0, [pid]
    while stack:
        current = stack.pop()
        with contextlib.suppress(OSError, IndexError, ValueError):  # the process ended meanwhile
            total += int(Path(f"/proc/{current}/statm").read_text().split()[1]) * PAGE
        stack.extend(tree.get(current, []))
    return total


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and all its live descendants, and by the children they
    have already reaped."""
    tree, ticks, stack = _children(), 0, [pid]
    while stack:
        current = stack.pop()
        with contextlib.suppress(OSError, IndexError, ValueError):  # the process ended meanwhile
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
        stack.extend(tree.get(current, []))
    return ticks / CLOCK_TICKS


def run_measured(command: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None,
                 interval: float = 0.1, memory_cap_bytes: int | None = None) -> Measured:
    """Run `command` to completion and measure it; its output is returned, never shown. Past `memory_cap_bytes`
    of the whole tree the child's process group is killed (the machine is shared: better a failed figure than
    an out-of-memory killer picking someone else's process)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(list(command), stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                 env=dict(env) if env else None, cwd=cwd,
                                 start_new_session=True)  # its own process group, to kill the tree at once
        peak = [0]
        killed = threading.Event()
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], tree_rss_bytes(child.pid))
                if memory_cap_bytes and peak[0] > memory_cap_bytes and not killed.is_set():
                    killed.set()
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(child.pid, signal.SIGKILL)
                done.wait(interval)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
        out.seek(0)
        err.seek(0)
        return Measured(list(command), child.returncode, wall, usage.ru_utime + usage.ru_stime, usage.ru_stime,
                        usage.ru_maxrss * 1024, peak[0], out.read().decode(errors="replace"),
                        err.read().decode(errors="replace"), killed.is_set())
