"""A process of its own beside a refresh, answering calls one at a time. It imports Great Expectations as soon as it
starts: GX takes seconds of CPU to import; started early, this process spends them on the other core while a
refresh reads its sources, instead of holding the refresh's interpreter. Once ready it stages sources while it is
idle (`in_worker_if_idle`), checks the consolidated map, and while a version is published writes GX's Data Docs
and a big version's slowest writers (flows/publish.py).

Run as `python -m expectations.worker` it is that process: it runs each call it is sent over its standard input
and answers on its standard output (pickled, length first), until its input closes. A plain subprocess rather
than multiprocessing, whose fresh interpreters run the parent's main script again: a user's script that refreshes
a map at its top level would refresh it twice.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import os
import pickle
import struct
import subprocess
import sys
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar

Result = TypeVar("Result")
HEADER = struct.Struct(">Q")  # the length of the pickled message that follows


class WorkerStopped(RuntimeError):
    """The worker process ended while a call was on its way."""


class WorkerBusy(RuntimeError):
    """The worker is answering another call, or has answered none yet (it may still be importing)."""


class Worker:
    """The worker process, its calls one at a time."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(module_command("expectations.worker"), stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, env=module_environment())
        self._lock = threading.Lock()
        self._answered = threading.Event()  # set once a call is answered: the worker is past its imports

    def call(self, function: Callable[..., Result], *args: Any) -> Result:
        """`function(*args)` in the worker; its exception is raised here."""
        return self.call_pickled(pickled_call(function, *args))  # type: ignore[no-any-return]

    def call_pickled(self, call: bytes, if_idle: bool = False) -> Any:
        """The call `pickled_call` made, run in the worker; its exception is raised here. With `if_idle`,
        WorkerBusy at once unless the worker has answered a call before and is answering none now."""
        assert self._process.stdin is not None and self._process.stdout is not None
        if if_idle and not self._answered.is_set():
            raise WorkerBusy
        if not self._lock.acquire(blocking=not if_idle):
            raise WorkerBusy
        try:
            _write(self._process.stdin, call)
            done, value = _receive(self._process.stdout)
        except (BrokenPipeError, EOFError) as error:
            raise WorkerStopped(f"exit status {self._process.poll()}") from error
        except BaseException:  # interrupted mid-call: its answer would be read as the next call's
            self._process.kill()
            raise
        finally:
            self._lock.release()
        self._answered.set()
        if not done:
            raise value
        return value

    def close(self) -> None:
        """Stop the worker at once. At exit it has no call under way (a call waits for its answer) and nothing of its
        own to keep, so it is killed rather than left to end (a worker that imported GX takes most of a second)."""
        if self._process.stdin is not None and not self._process.stdin.closed:
            self._process.stdin.close()
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


@contextmanager
def imports_frozen() -> Iterator[None]:
    """Run the imports made inside without the cyclic garbage collector, then freeze all the process holds
    (`gc.freeze`) and collect again as usual. Modules, classes and functions live as long as the process: collecting
    while they are built finds nothing to free, and each full collection afterwards would walk them all again.
    Measured: importing the refresh's modules takes a tenth less CPU; a refresh at bench M spends 0.3 s in full
    collections against 0.8-0.9 s."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


_WORKER: list[Worker] = []  # this process's worker, once started
_LOCK = threading.Lock()


def start() -> None:
    """Start this process's worker now, so that it gets ready while this process goes on."""
    _worker()


def get_ready(function: Callable[[], object]) -> None:
    """Start this process's worker if need be and send it `function()` from a thread of its own: unpickling the call
    imports `function`'s module there, so that the worker is ready for `in_worker_if_idle` once it answers."""
    start()
    threading.Thread(target=in_worker, args=(function,), daemon=True, name="worker-ready").start()


def in_worker_if_idle(function: Callable[..., Result], *args: Any) -> tuple[bool, Result | None]:
    """`(True, function(*args))` run in this process's worker when it is running, has answered a call (it is past
    its imports) and is answering no other; else `(False, None)` at once, for the caller to run it itself. Never
    starts the worker. A worker that stopped is dropped (the next `in_worker` starts another) and the call is left
    to the caller."""
    with _LOCK:
        worker = _WORKER[0] if _WORKER else None
    if worker is None:
        return False, None
    try:
        return True, worker.call_pickled(pickled_call(function, *args), if_idle=True)
    except WorkerBusy:
        return False, None
    except WorkerStopped:
        _forget(worker)
        return False, None


def in_worker(function: Callable[..., Result], *args: Any) -> Result:
    """`function(*args)` run in this process's worker (started if need be)."""
    return in_worker_pickled(pickled_call(function, *args))  # type: ignore[no-any-return]


def pickled_call(function: Callable[..., Any], *args: Any) -> bytes:
    """`function(*args)` as a worker is sent it. Pickled where it is called, so that the arguments may change
    once this returns (another thread may then send it)."""
    return pickle.dumps((function, args), protocol=pickle.HIGHEST_PROTOCOL)


def in_worker_pickled(call: bytes) -> Any:
    """A `pickled_call` run in this process's worker (started if need be). A worker that died (killed, out of
    memory) is replaced once."""
    for attempt in (1, 2):
        worker = _worker()
        try:
            return worker.call_pickled(call)
        except WorkerStopped as error:
            _forget(worker)
            if attempt == 2:
                raise RuntimeError(f"the worker process stopped twice ({error}); its work could not be done: is the "
                                   "machine out of memory?") from error
    raise AssertionError("unreachable")


def _forget(worker: Worker) -> None:
    """Drop a worker that stopped, so that the next call starts another."""
    with _LOCK:
        if _WORKER and _WORKER[0] is worker:
            _WORKER.clear()


def _worker() -> Worker:
    with _LOCK:
        if not _WORKER:
            _WORKER.append(Worker())
            atexit.register(_WORKER[0].close)
        return _WORKER[0]


def _send(stream: IO[bytes], message: object) -> None:
    _write(stream, pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def _write(stream: IO[bytes], data: bytes) -> None:
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    return pickle.loads(_read(stream))  # noqa: S301  (from our own parent process, over a pipe only it holds)


def _read(stream: IO[bytes]) -> bytes:
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        raise EOFError("the other side closed the pipe")
    (size,) = HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the other side closed the pipe mid-message")
    return data


# Optional packages that libraries ism uses import whenever they are installed, for features ism never uses:
# pandera's data synthesis imports Hypothesis, a test tool (a development install's full refresh spent ~1 s of CPU
# importing it, in the refresh and in this worker).
NEVER_USED = ("hypothesis",)


def keep_unused_imports_out() -> None:
    """Make NEVER_USED unimportable in this process (one of ism's own: the CLI or this worker), unless imported
    already; None in sys.modules: an import raises ImportError, which those libraries take as "not installed"."""
    for name in NEVER_USED:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


# Imported by GX at its own import for expectations ism's suite never uses (a KL divergence test and its chart):
# a third of GX's import, measured. Loaded when first used, if ever.
DEFERRED_BY_GX = ("scipy.stats", "altair")


class DeferredModule(types.ModuleType):
    """A module that stands in sys.modules for `name` until one of its attributes is first asked for, then imports
    the real module in its place and takes on its attributes."""

    def __getattr__(self, attribute: str) -> Any:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        real = importlib.import_module(self.__name__)
        vars(self).update(vars(real))
        return getattr(real, attribute)


def main() -> int:
    """The worker's loop: import GX, then answer each call until the input closes."""
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed goes to standard error, never into the answers
    from expectations.suite import great_expectations

    # GX checks pandas frames here: its optional SQL support is kept out (sqlalchemy comes with Prefect, so GX
    # would load it and its SQL engine: a fifth of its import, measured); None in sys.modules: not importable
    sys.modules.setdefault("sqlalchemy", None)  # type: ignore[arg-type]
    keep_unused_imports_out()
    for name in DEFERRED_BY_GX:
        sys.modules.setdefault(name, DeferredModule(name))
    with imports_frozen():
        great_expectations()
    requests = sys.stdin.buffer
    while True:
        try:
            call = _read(requests)
        except EOFError:
            return 0
        try:
            function, args = pickle.loads(call)  # noqa: S301  (from our own parent, over a pipe only it holds)
            reply: tuple[bool, Any] = (True, function(*args))
        except Exception as error:  # noqa: BLE001  (raised again in the parent; a call that cannot be unpickled
            reply = (False, error)  # here, such as a function defined in a script, included)
        try:
            _send(answers, reply)
        except (pickle.PicklingError, TypeError, AttributeError) as error:
            _send(answers, (False, RuntimeError(f"{reply[1]!r} (its answer could not be sent back: {error})")))


if __name__ == "__main__":
    sys.exit(main())
