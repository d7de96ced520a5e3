"""A process of its own for Great Expectations. GX takes seconds of CPU to import; started early, this process
spends them on the other core while a refresh reads its sources, instead of holding the refresh's interpreter.

Run as `python -m expectations.worker` it is that process: it imports GX, then runs each call it is sent over its
standard input and answers on its standard output (pickled, length first), until its input closes. A plain
subprocess rather than multiprocessing, whose fresh interpreters run the parent's main script again: a user's
script that refreshes a map at its top level would refresh it twice.
"""

from __future__ import annotations

import atexit
import os
import pickle
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

Result = TypeVar("Result")
HEADER = struct.Struct(">Q")  # the length of the pickled message that follows


class WorkerStopped(RuntimeError):
    """The worker process ended while a call was on its way."""


class Worker:
    """One worker process, its calls one at a time."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(module_command("expectations.worker"), stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, env=module_environment())
        self._lock = threading.Lock()

    def call(self, function: Callable[..., Result], *args: Any) -> Result:
        """`function(*args)` in the worker; its exception is raised here."""
        assert self._process.stdin is not None and self._process.stdout is not None
        with self._lock:
            try:
                _send(self._process.stdin, (function, args))
                done, value = _receive(self._process.stdout)
            except (BrokenPipeError, EOFError) as error:
                raise WorkerStopped(f"exit status {self._process.poll()}") from error
            except BaseException:  # interrupted mid-call: its answer would be read as the next call's
                self._process.kill()
                raise
        if not done:
            raise value
        return value  # type: ignore[no-any-return]

    def close(self) -> None:
        """Close its input, so that it ends; stopped if it is still importing GX (a run that needed no check
        does not wait for that)."""
        if self._process.stdin is not None and not self._process.stdin.closed:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def module_command(module: str, *args: str) -> list[str]:
    """The command that runs `python -m module args` with this interpreter."""
    return [sys.executable, "-m", module, *args]


def module_environment() -> dict[str, str]:
    """This process's environment with this copy of ism first on PYTHONPATH, so that a `module_command` child runs
    the same code (not another installed copy, as when the benchmark runs a snapshot of the tree)."""
    package_root = str(Path(__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}


_WORKER: Worker | None = None
_LOCK = threading.Lock()


def start() -> None:
    """Start this process's worker now, so that it imports GX while this process goes on."""
    _worker()


def in_worker(function: Callable[..., Result], *args: Any) -> Result:
    """`function(*args)` run in this process's worker (started if need be). A worker that died (killed, out of
    memory) is replaced once."""
    global _WORKER
    for attempt in (1, 2):
        worker = _worker()
        try:
            return worker.call(function, *args)
        except WorkerStopped as error:
            with _LOCK:
                if _WORKER is worker:
                    _WORKER = None
            if attempt == 2:
                raise RuntimeError(f"the Great Expectations worker process stopped twice ({error}); the checks "
                                   "could not run: is the machine out of memory?") from error
    raise AssertionError("unreachable")


def _worker() -> Worker:
    global _WORKER
    with _LOCK:
        if _WORKER is None:
            _WORKER = Worker()
            atexit.register(_WORKER.close)
        return _WORKER


def _send(stream: IO[bytes], message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        raise EOFError("the other side closed the pipe")
    (size,) = HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the other side closed the pipe mid-message")
    return pickle.loads(data)  # noqa: S301  (from our own parent process, over a pipe only it holds)


def main() -> int:
    """The worker's loop: import GX, then answer each call until the input closes."""
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed goes to standard error, never into the answers
    from expectations.suite import great_expectations

    great_expectations()
    requests = sys.stdin.buffer
    while True:
        try:
            function, args = _receive(requests)
        except EOFError:
            return 0
        try:
            reply: tuple[bool, Any] = (True, function(*args))
        except Exception as error:  # noqa: BLE001  (raised again in the parent)
            reply = (False, error)
        try:
            _send(answers, reply)
        except (pickle.PicklingError, TypeError, AttributeError) as error:
            _send(answers, (False, RuntimeError(f"{reply[1]!r} (its answer could not be sent back: {error})")))


if __name__ == "__main__":
    sys.exit(main())
