"""Prefect's own cost, measured the way ism runs a refresh: one process that imports Prefect (with ism's Prefect
settings), runs one flow submitting N no-op tasks on the default thread runner, and exits. Run it with N = 0 for
the fixed start-up cost, and with N = 2 x the map's sources for the bookkeeping of ism's per-source tasks.

    python -m bench.prefect_overhead --tasks 800
"""

from __future__ import annotations

import argparse
import json
import time

started = time.perf_counter()
from flows.environment import heartbeats_left_to_stop, prepare_prefect  # noqa: E402,I001  (first, as in ism)

prepare_prefect()  # home, analytics off, log levels, before Prefect is imported
from prefect import flow, task  # noqa: E402

heartbeats_left_to_stop()  # as every flow of ism's: the empty flow is Prefect as ism runs it

imported = time.perf_counter()


@task(name="noop")
def noop(number: int) -> int:
    return number


@flow(name="bench-prefect-overhead", log_prints=False, validate_parameters=False)
def overhead_flow(tasks: int) -> float:
    """Submit `tasks` no-op tasks and wait for them; returns the seconds spent inside the flow."""
    inside = time.perf_counter()
    futures = [noop.submit(number) for number in range(tasks)]
    for future in futures:
        future.result()
    return time.perf_counter() - inside


def main() -> None:
    parser = argparse.ArgumentParser(description="Time an empty Prefect flow with N no-op tasks.")
    parser.add_argument("--tasks", type=int, default=0)
    args = parser.parse_args()
    called = time.perf_counter()
    inside = overhead_flow(args.tasks)
    finished = time.perf_counter()
    print(json.dumps({"tasks": args.tasks, "import_seconds": imported - started, "flow_call_seconds": finished - called,
                      "inside_flow_seconds": inside}))


if __name__ == "__main__":
    main()
