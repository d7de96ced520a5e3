"""The benchmark's /proc readings of a process tree."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from bench.measure import tree_cpu_seconds, tree_rss_bytes

BURN_THEN_WAIT = """\
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; t = time.process_time()\\n"
                          "while time.process_time() - t < 0.4: pass\\nprint('burnt', flush=True)\\ntime.sleep(60)"],
                         stdout=subprocess.PIPE)
print(child.stdout.readline().decode().strip(), flush=True)
time.sleep(60)
"""


def test_tree_figures_count_the_descendants() -> None:
    parent = subprocess.Popen([sys.executable, "-c", BURN_THEN_WAIT], stdout=subprocess.PIPE,
                              start_new_session=True)  # its own group: the grandchild is killed with it
    try:
        assert parent.stdout is not None and parent.stdout.readline() == b"burnt\n"
        assert tree_cpu_seconds(parent.pid) >= 0.35  # the grandchild's 0.4 s of CPU, still running
        assert tree_rss_bytes(parent.pid) > 2 * 5 * 1024**2  # two interpreters
    finally:
        os.killpg(parent.pid, signal.SIGKILL)
        parent.wait()
        assert parent.stdout is not None
        parent.stdout.close()
