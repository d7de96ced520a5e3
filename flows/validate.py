"""The `validate_map` flow: extract, stage, consolidate and check every source exactly as a refresh would, and
publish nothing. Its result is the run's quality summary (report.json's shape, see outputs/quality_report.py)."""

from __future__ import annotations

import json
import tempfile
from typing import Any

from prefect import flow

from expectations import worker
from flows.config import load_config
from flows.gate import quality_gate
from flows.progress import announce
from flows.runners import source_task_runner
from flows.stage import read_sources
from flows.staging import ready_to_stage
from outputs.quality_report import report_json
from outputs.run_log import new_run_id


@flow(name="validate-map", log_prints=False, validate_parameters=False)
def validate_map(config_path: str, publish_root: str | None = None) -> dict[str, Any]:
    """Check one map without publishing: every source's policy is applied as in a refresh (a quarantined source
    shows whether its last good extract would be used), the previous version is the one compared against, and
    the summary goes to the Prefect artifacts ism-validate-<map_id>, and the run's report (its path under "report")
to the private working area. Nothing under the publish root changes."""
    config = load_config(config_path)
    store = config.store(publish_root)
    with tempfile.TemporaryDirectory(prefix=f"ism-validate-{config.map_id}-") as work:
        announce("sources")
        worker.get_ready(ready_to_stage)  # GX for the checks; meanwhile it stages sources
        with source_task_runner(config) as runner:  # no private folder: no cache read or written
            runs = read_sources(runner, config, config.sources, work)
        outcomes = [runs[source.id].outcome for source in config.sources]
        _, _, checked = quality_gate(config, outcomes, store, work, enforce=False, artifact="validate",
                                     run_id=new_run_id())
        with open(checked.path, encoding="utf-8") as handle:
            return {**report_json(json.load(handle)), "report": checked.report}
