"""Discovery's six phases as a DBOS Transact workflow, closed loop, timed: the baseline of MFO's auto-run flows.

    bench/.venv-dbos/bin/python bench/dbos_workflows.py --database-url postgresql://postgres@127.0.0.1:5432/mfo_dbos \\
        --example bench/results/discovery-example.json --concurrency 8 --workflows 32 [--warmup-workflows 4]
        [--pool-size 40]

Runs with the bench's own virtual environment (``bench/.venv-dbos``: the ``dbos`` package and what it pulls in; MFO's
environment never has it), so it imports nothing of MFO's but its domain package and discovery's phase module,
loaded from its file: the same pure handlers MFO's discovery phases call, on the same configuration (``--example``:
discovery's ``phases``, ``example_configuration`` and ``example_inputs``, as ``GET /api/v1/flow-types`` publishes
them). DBOS keeps its state in ``--database-url``, its system database (created when missing), nothing else.

The workflow is one DBOS step per phase, in discovery's order; each step calls that phase's handler on the
configuration and the results of the steps before it and returns the phase's result, which DBOS checkpoints. The
field_mapping input comes as a DBOS message: the driver sends discovery's example input as soon as it has started
the workflow, and the workflow receives it (``DBOS.recv``) before the field_mapping step, which proposes the
mapping and then accepts the input, as MFO's field_mapping phase and its input do.

``--concurrency`` driver threads each loop: ``DBOS.start_workflow``, ``DBOS.send`` of the input, then wait for the
result. The window is the MFO driver's (bench/closed_loop.py): it opens when ``--warmup-workflows`` have finished
and closes when ``--workflows`` more have; the workflows still running then finish, untimed. Quiet and offline: no
Conductor key (so no connection to DBOS's cloud), no OTLP export, warnings only, on stderr. Prints one JSON object
on stdout:

    workflows (timed), warmup_workflows, concurrency, elapsed_s (the window), workflows_per_s, started, completed,
    steps (every completed workflow's steps, warm-up and tail included), steps_per_workflow, errors, p50_ms and
    p99_ms of the window's workflows (start to result), cpu_ms_per_flow (the process's CPU time, every thread's,
    from the first workflow's start to the last one's end, over the workflows completed), dbos_version.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import threading
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # MFO's domain package, which discovery's phase handlers import

from dbos import DBOS, DBOSConfig  # noqa: E402

from bench.closed_loop import Window  # noqa: E402


def discovery_phases() -> Any:
    """adapters/flow_types/discovery/phases.py, loaded from its file (its package's __init__ registers MFO's child
    table, which this environment has no use for)."""
    path = ROOT / "adapters" / "flow_types" / "discovery" / "phases.py"
    spec = importlib.util.spec_from_file_location("mfo_discovery_phases", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PHASES = discovery_phases()


class PhaseView:
    """What discovery's handlers read of a flow: its configuration, the earlier phases' results, and whether each
    of those phases completed."""

    def __init__(self, configuration: dict[str, Any], results: dict[str, Any]) -> None:
        self.configuration = configuration
        self.phase_results = dict(results)

    def phase_state(self, name: str) -> str:
        return "completed" if name in self.phase_results else "pending"


def run_handler(phase: str, configuration: dict[str, Any], results: dict[str, Any], payload: Any) -> dict[str, Any]:
    """One phase's handler; a phase that waits for input is given ``payload`` at once, as MFO's input route gives
    it to the phase's input handler."""
    view = PhaseView(configuration, results)
    outcome = PHASES.HANDLERS[phase](view)
    if str(outcome.kind) == "needs_input":
        view.phase_results[phase] = outcome.result
        outcome = PHASES.INPUT_HANDLERS[phase](view, payload)
    if str(outcome.kind) != "completed":
        raise RuntimeError(f"phase {phase} ended {outcome.kind}: {outcome.error}")
    return outcome.result


def make_step(phase: str) -> Any:
    def step(configuration: dict[str, Any], results: dict[str, Any], payload: Any = None) -> dict[str, Any]:
        return run_handler(phase, configuration, results, payload)

    step.__name__ = step.__qualname__ = phase
    return DBOS.step(name=phase)(step)


STEPS = {phase: make_step(phase) for phase in PHASES.PHASES}


@DBOS.workflow(name="discovery")
def discovery(configuration: dict[str, Any], input_phases: list[str]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for phase in PHASES.PHASES:
        payload = DBOS.recv(phase, timeout_seconds=60) if phase in input_phases else None
        results[phase] = STEPS[phase](configuration, results, payload)
    return {"summary": results[PHASES.PHASES[-1]].get("summary")}


def driver(window: Window, configuration: dict[str, Any], inputs: dict[str, Any]) -> None:
    """One client: start a workflow, send it its input, wait for its result; again while the window wants more."""
    while window.next_flow():
        began = time.perf_counter()
        try:
            handle = DBOS.start_workflow(discovery, configuration, list(inputs))
            for phase, payload in inputs.items():
                DBOS.send(handle.workflow_id, payload, topic=phase)
            handle.get_result()
        except Exception as error:  # counted and shown; the loop goes on
            print(f"workflow: {type(error).__name__}: {error}", file=sys.stderr)
            window.failed()
            continue
        window.finished(began)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="DBOS's system database (postgresql://...)")
    parser.add_argument("--example", required=True, help="JSON: discovery's phases, example configuration, inputs")
    parser.add_argument("--concurrency", type=int, required=True, help="workflows in flight at once")
    parser.add_argument("--workflows", type=int, required=True, help="timed workflows")
    parser.add_argument("--warmup-workflows", type=int, default=0, help="workflows run first, untimed")
    parser.add_argument("--pool-size", type=int, default=40, help="DBOS's system database pool (default 40)")
    args = parser.parse_args()
    example = json.loads(Path(args.example).read_text())
    if list(example["phases"]) != list(PHASES.PHASES):
        raise SystemExit(f"the server's discovery phases {example['phases']} are not {PHASES.PHASES}")
    configuration = example["example_configuration"]
    inputs = {phase: example["example_inputs"].get(phase, {}) for phase in example.get("input_phases", [])}

    config: DBOSConfig = {
        "name": "mfo-bench",
        "system_database_url": args.database_url,
        "sys_db_pool_size": args.pool_size,
        "max_executor_threads": max(64, args.concurrency * 2),
        "log_level": "WARNING",
        "enable_otlp": False,
        "application_version": "mfo-bench",
        "executor_id": "mfo-bench",
    }
    DBOS(config=config)
    DBOS.launch()
    window = Window(args.workflows, args.warmup_workflows)
    threads = [threading.Thread(target=driver, args=(window, configuration, inputs)) for _ in range(args.concurrency)]
    cpu = time.process_time()  # the process's CPU, every thread's, DBOS's own included; launch and shutdown not
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu = time.process_time() - cpu
    DBOS.destroy()
    figures = window.summary()
    print(
        json.dumps(
            {
                "workflows": figures["flows"],
                "warmup_workflows": args.warmup_workflows,
                "concurrency": args.concurrency,
                "elapsed_s": figures["elapsed_s"],
                "workflows_per_s": figures["per_s"],
                "started": figures["started"],
                "completed": figures["completed"],
                "steps": figures["completed"] * len(PHASES.PHASES),
                "steps_per_workflow": len(PHASES.PHASES),
                "errors": figures["failures"],
                "p50_ms": figures["p50_ms"],
                "p99_ms": figures["p99_ms"],
                "cpu_ms_per_flow": round(cpu * 1000 / figures["completed"], 1) if figures["completed"] else None,
                "dbos_version": version("dbos"),
            }
        )
    )
    return 1 if figures["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
