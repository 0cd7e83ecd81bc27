"""``make bench``'s durable-execution part: MFO's auto-run discovery flows against DBOS Transact, same cluster.

Three databases of their own on the bench's cluster: two MFO databases (each with one ``mfo serve`` and one
``mfo worker``, the CrewAI bridge on for discovery in one, ``MFO_CREWAI_FLOW_TYPES`` empty in the other: plain
handlers) and DBOS's system database. At each concurrency (8 and 32 by default) and in each of ``--repeat`` rounds:

- DBOS: ``bench/dbos_workflows.py`` in a process of its own, with the bench's own virtual environment
  (``bench/.venv-dbos``, made here with ``dbos`` installed from the package index; MFO's environment never has
  it): discovery's six phases as a six-step workflow, the same handlers on the same configuration;
- MFO, bridge on, then off: ``bench/autorun.py`` against that database's server (HTTP only): auto-run discovery
  flows, the field_mapping input sent as soon as a flow waits for it.

Both sides run the same closed loop (bench/closed_loop.py) at the same concurrency: every client starts its next
flow as soon as its last one finishes; the window opens when half as many flows as there are clients have
finished and closes when ``--durable-flows`` more have; the flows still in flight then finish, untimed.

Figures per run: flows (workflows) per second in the window, and commits per phase: the ``xact_commit`` delta of
that run's database in ``pg_stat_database`` divided by the phases executed (every flow's, before and after the
window too). The counters are read through the cluster's ``postgres`` database, so no reading counts in the three.
A backend reports its statistics at most once a second, and an idle one only 10 s later, so: a DBOS run's window
is its process's life, closed once its backends are gone (a backend reports as it exits), launch and shutdown
included (measured once on their own, and reported); MFO's processes stay up, so an MFO run's window opens right
before it and closes 11 s after it (read while the next points run on the other databases): the worker's own
polling in those seconds counts too. Also per run: the
transaction ids the cluster assigned during the run (transactions that wrote), per phase. Medians of the runs are
quoted; autovacuum is paused meanwhile when the bench's role may.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.persistence.migrate import upgrade
from bench.loadgen import credential_headers
from bench.run import PY, RESULTS, ROOT, STATS_FLUSH_SECONDS, Credentials, Server, median_of, server_env, set_autovacuum

HERE = Path(__file__).resolve().parent
DBOS_VENV = HERE / ".venv-dbos"
DBOS_PACKAGE, DBOS_VERSION = "dbos", "3.4.0"
SYSTEMS = {
    "dbos": "DBOS Transact",
    "mfo_bridge_on": "MFO, CrewAI bridge on",
    "mfo_bridge_off": "MFO, bridge off (plain handlers)",
}
BRIDGE = {"mfo_bridge_on": "discovery", "mfo_bridge_off": ""}
"""MFO_CREWAI_FLOW_TYPES of each MFO side: the bridge for discovery, or none."""
FIGURES = ("flows_per_s", "commits_per_phase", "writes_per_phase", "cpu_ms_per_flow", "p50_ms", "p99_ms")
SMOKE_TENANT = 99
"""The tenant of each MFO side's first flow (run before any measurement, to see the worker answer)."""


class DurableExecutionError(RuntimeError):
    """This part could not run (DBOS not installable, a process that did not start); the rest of the bench can."""


# -- DBOS's own virtual environment -----------------------------------------------------------------------------


def dbos_python() -> Path:
    """bench/.venv-dbos's python with dbos DBOS_VERSION installed: made and installed (pip, from the package
    index) when missing, reused otherwise."""
    python = DBOS_VENV / "bin" / "python"
    probe = f"import importlib.metadata as m; print(m.version({DBOS_PACKAGE!r}))"
    if python.exists():
        installed = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
        if installed.returncode == 0 and installed.stdout.strip() == DBOS_VERSION:
            return python
    print(f"installing {DBOS_PACKAGE}=={DBOS_VERSION} into {DBOS_VENV.relative_to(ROOT)} ...", flush=True)
    steps = [
        [PY, "-m", "venv", "--clear", str(DBOS_VENV)],
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"{DBOS_PACKAGE}=={DBOS_VERSION}",
        ],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise DurableExecutionError(f"`{' '.join(step)}` failed (exit status {done.returncode}):\n{tail}")
    return python


# -- processes --------------------------------------------------------------------------------------------------


def run_json(command: list[str], env: dict[str, str] | None = None, timeout: float = 600) -> dict[str, Any]:
    """Run ``command`` (from the repository's root) and parse the JSON object it prints; a run that fails or takes
    longer than ``timeout`` seconds (a worker that runs no phase leaves its flows waiting) stops the part."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise DurableExecutionError(f"`{' '.join(command[:4])} ...` did not finish in {timeout:g} s") from None
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise DurableExecutionError(f"`{' '.join(command[:4])} ...` failed (exit status {done.returncode}):\n{tail}")
    return json.loads(done.stdout)


class Worker:
    """``mfo worker`` in the same environment as its server: runs the background phases of auto-run flows."""

    def __init__(self, url: str, credentials: Credentials, env: dict[str, str], name: str) -> None:
        RESULTS.mkdir(exist_ok=True)
        self.log = RESULTS / f"worker-{name}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [str(Path(PY).parent / "mfo"), "worker"],
                env=server_env(url, credentials, env),
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class MfoSide:
    """One MFO side: a database of its own, its ``mfo serve`` (one process) and its ``mfo worker``."""

    def __init__(self, system: str, url: str, credentials: Credentials) -> None:
        self.system, self.url, self.credentials = system, url, credentials
        self.database = make_url(url).database
        self.env = {"MFO_CREWAI_FLOW_TYPES": BRIDGE[system]}
        self.worker: Worker | None = None
        self.server: Server | None = None

    def start(self) -> None:
        self.worker = Worker(self.url, self.credentials, self.env, self.system)
        try:
            self.server = Server(self.url, 1, self.credentials, env=self.env, name=self.system)
        except RuntimeError as error:
            raise DurableExecutionError(f"{self.system}: {error}") from error

    def stop(self) -> None:
        for process in (self.server, self.worker):
            if process is not None:
                process.stop()

    def run(
        self, args: argparse.Namespace, clients: int, flows: int, warmup: int, tenant: int, timeout: float = 600
    ) -> dict[str, Any]:
        """One run of bench/autorun.py against this side, with the CPU time its two processes used meanwhile."""
        assert self.server is not None
        command = [PY, "-m", "bench.autorun", "--url", self.server.base, "--concurrency", str(clients)]
        command += ["--flows", str(flows), "--warmup-flows", str(warmup), "--tenant", str(tenant)]
        command += ["--poll-ms", f"{args.durable_poll_ms:g}", "--tokens-file", str(self.credentials.file)]
        assert self.worker is not None
        if self.worker.process.poll() is not None:
            raise DurableExecutionError(f"mfo worker exited ({self.worker.process.returncode}): {self.worker.log}")
        processes = {"serve": self.server.process.pid, "worker": self.worker.process.pid}
        before = {name: cpu_seconds(pid) for name, pid in processes.items()}
        run = run_json(command, timeout=timeout)
        used = {name: cpu_seconds(pid) - before[name] for name, pid in processes.items()}
        done = max(1, run["completed"])
        for name, seconds in used.items():
            run[f"{name}_cpu_ms_per_flow"] = round(seconds * 1000 / done, 1)
        run["cpu_ms_per_flow"] = round(sum(used.values()) * 1000 / done, 1)
        return run


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system, every thread) process ``pid`` has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def dbos_env() -> dict[str, str]:
    """The DBOS process's environment: no DBOS Cloud, Conductor or OTLP settings from the caller's."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("DBOS_", "DBOS__", "OTEL_"))}


def dbos_run(python: Path, url: str, example: Path, clients: int, flows: int, warmup: int) -> dict[str, Any]:
    command = [str(python), str(HERE / "dbos_workflows.py"), "--database-url", url, "--example", str(example)]
    command += ["--concurrency", str(clients), "--workflows", str(flows), "--warmup-workflows", str(warmup)]
    return run_json(command, env=dbos_env())


# -- PostgreSQL's counters --------------------------------------------------------------------------------------


def with_database(url: str, database: str, driver: str = "postgresql+asyncpg") -> str:
    return make_url(url).set(drivername=driver, database=database).render_as_string(hide_password=False)


class Counters:
    """``pg_stat_database`` of the part's databases and the cluster's next transaction id, read through the
    cluster's ``postgres`` database (so that no reading counts in the databases measured)."""

    def __init__(self, url: str) -> None:
        self.url = with_database(url, "postgres")
        self.quiet_since: dict[str, float] = {}
        """When each MFO database last had a run: its counters are complete STATS_FLUSH_SECONDS later."""

    async def _query(self, sql: str, **params: Any) -> list[Any]:
        engine = create_async_engine(self.url)
        try:
            async with engine.connect() as connection:
                return list((await connection.execute(text(sql), params)).all())
        finally:
            await engine.dispose()

    def commits(self, database: str) -> int:
        rows = asyncio.run(self._query("SELECT xact_commit FROM pg_stat_database WHERE datname = :name", name=database))
        return int(rows[0][0])

    def next_xid(self) -> int:
        return int(asyncio.run(self._query("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint"))[0][0])

    def backends(self, database: str) -> int:
        sql = "SELECT count(*) FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"
        return int(asyncio.run(self._query(sql, name=database))[0][0])

    def settled_commits(self, database: str) -> int:
        """The database's commits once every backend has reported them: STATS_FLUSH_SECONDS after its last run."""
        wait = self.quiet_since.get(database, 0.0) + STATS_FLUSH_SECONDS - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        return self.commits(database)

    def exited_commits(self, database: str, timeout: float = 30.0) -> int:
        """The database's commits once its backends are gone (each reports its statistics as it exits)."""
        deadline = time.monotonic() + timeout
        while self.backends(database) and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.backends(database):
            raise DurableExecutionError(f"backends of {database} still open {timeout:g} s after DBOS's process ended")
        return self.commits(database)

    def create(self, names: list[str]) -> None:
        """Drop and create each database (a database of its own for each side, fresh in every run)."""

        async def recreate() -> None:
            engine = create_async_engine(self.url, isolation_level="AUTOCOMMIT")
            try:
                async with engine.connect() as connection:
                    for name in names:
                        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                        await connection.execute(text(f'CREATE DATABASE "{name}"'))
            finally:
                await engine.dispose()

        try:
            asyncio.run(recreate())
        except Exception as error:  # a server the bench did not start may not let its role create databases
            raise DurableExecutionError(f"could not create the databases {', '.join(names)}: {error}") from error


# -- the part ---------------------------------------------------------------------------------------------------


def discovery_example(side: MfoSide) -> dict[str, Any]:
    """Discovery as the MFO server publishes it (``GET /api/v1/flow-types``): phases, example configuration and
    inputs, the same configuration both sides run."""
    assert side.server is not None
    headers = credential_headers(SMOKE_TENANT, side.credentials.tokens)
    listing = httpx.get(f"{side.server.base}/api/v1/flow-types", headers=headers, timeout=30).json()
    return next(t for t in listing["items"] if t["name"] == "discovery")


def per_phase(run: dict[str, Any], phases: int, commits: int, xids: int, window_s: float) -> dict[str, Any]:
    run["commits"], run["transaction_ids"], run["window_s"] = commits, xids, round(window_s, 1)
    run["commits_per_phase"] = round(commits / phases, 3) if phases else None
    run["writes_per_phase"] = round(xids / phases, 3) if phases else None
    return run


def durable_execution(args: argparse.Namespace, url: str, credentials: Credentials) -> dict[str, Any]:
    """The whole part on the cluster at ``url``; its figures (the table in bench/report.py)."""
    started = time.perf_counter()

    def progress(message: str) -> None:
        print(f"durable execution: {message} ({time.perf_counter() - started:.0f} s)", flush=True)

    base = make_url(url).database
    names = {"dbos": f"{base}_dbos", **{system: f"{base}_{system}" for system in BRIDGE}}
    counters = Counters(url)
    sides = {system: MfoSide(system, with_database(url, names[system]), credentials) for system in BRIDGE}
    dbos_url = with_database(url, names["dbos"], "postgresql")
    paused = False
    with ThreadPoolExecutor(len(sides)) as pool:
        installing = pool.submit(dbos_python)  # DBOS's environment meanwhile (made once, then reused)
        try:
            counters.create(list(names.values()))
            paused = asyncio.run(set_autovacuum(url, on=False))
            for side in sides.values():
                upgrade(side.url)
            python = installing.result()
            list(pool.map(MfoSide.start, sides.values()))  # both sides start at once (imports take seconds)
            # a first flow on each side, to see its worker answer; not measured
            list(pool.map(lambda side: side.run(args, 1, 1, 0, SMOKE_TENANT, timeout=120), sides.values()))
            for side in sides.values():
                counters.quiet_since[side.database] = time.monotonic()
            progress("both MFO sides up")
            example = discovery_example(sides["mfo_bridge_on"])
            example_file = RESULTS / "discovery-example.json"
            example_file.write_text(json.dumps(example, indent=2) + "\n")
            # while the MFO sides' counters settle: a first DBOS process (it creates its schema; not measured),
            # then one that runs no workflow: what launching and shutting down DBOS commit on their own
            dbos_run(python, dbos_url, example_file, 1, 1, 0)
            before = counters.exited_commits(names["dbos"])
            fixed = dbos_run(python, dbos_url, example_file, 1, 0, 0)
            fixed["commits"] = counters.exited_commits(names["dbos"]) - before
            progress("DBOS ready")
            result = measure(args, python, dbos_url, example_file, sides, names, counters)
            result["phases"] = example["phases"]
            result["dbos_version"] = fixed["dbos_version"]
            result["dbos_process_commits"] = fixed["commits"]
        finally:
            for side in sides.values():
                side.stop()
            if paused:
                asyncio.run(set_autovacuum(url, on=True))
    result["systems"]["dbos"]["label"] = f"{SYSTEMS['dbos']} {result['dbos_version']}"
    result["autovacuum_paused"] = paused
    result["part_s"] = round(time.perf_counter() - started, 1)
    progress("done")
    return result


def measure(
    args: argparse.Namespace,
    python: Path,
    dbos_url: str,
    example: Path,
    sides: dict[str, MfoSide],
    names: dict[str, str],
    counters: Counters,
) -> dict[str, Any]:
    """``--repeat`` rounds over every (concurrency, system) point."""
    phases = len(json.loads(example.read_text())["phases"])
    readings = ThreadPoolExecutor(len(sides))
    pending: dict[str, tuple[Future[tuple[int, float]], dict[str, Any], int, float]] = {}

    def read_at(database: str, at: float) -> tuple[int, float]:
        """The database's commits at ``at`` (monotonic seconds), and when they were read."""
        time.sleep(max(0.0, at - time.monotonic()))
        return counters.commits(database), time.monotonic()

    def settle(system: str) -> None:
        """Close the window of ``system``'s last run, if still open: its reading STATS_FLUSH_SECONDS after it."""
        entry = pending.pop(system, None)
        if entry is None:
            return
        reading, run, before, opened = entry
        after, closed = reading.result()
        per_phase(run, run["phases"], after - before, run.pop("_xids"), closed - opened)
        report_run(system, run["concurrency"], run)

    runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
    tenant = 0
    try:
        for round_ in range(args.repeat):
            print(f"durable execution: round {round_ + 1} of {args.repeat}", flush=True)
            for clients in args.durable_levels:
                flows, warmup = args.durable_flows, warmup_flows(clients)
                # DBOS: one process per run; its window is the process's life
                before, xid, opened = counters.commits(names["dbos"]), counters.next_xid(), time.monotonic()
                run = dbos_run(python, dbos_url, example, clients, flows, warmup)
                commits = counters.exited_commits(names["dbos"]) - before
                run = per_phase(run, run["steps"], commits, counters.next_xid() - xid, time.monotonic() - opened)
                run["flows_per_s"], run["round"] = run.pop("workflows_per_s"), round_ + 1
                runs.setdefault(("dbos", clients), []).append(run)
                report_run("dbos", clients, run)
                for system, side in sides.items():
                    # the window opens right before the run (the counters settled since the last one: its closing
                    # reading came first) and closes STATS_FLUSH_SECONDS after it, read while the next points run
                    settle(system)
                    before, opened = counters.settled_commits(names[system]), time.monotonic()
                    xid = counters.next_xid()
                    run = side.run(args, clients, flows, warmup, tenant)
                    time.sleep(0.5)  # the worker's last acknowledgements of its jobs
                    run["_xids"], run["round"] = counters.next_xid() - xid, round_ + 1
                    counters.quiet_since[names[system]] = time.monotonic()
                    closing = readings.submit(read_at, names[system], time.monotonic() + STATS_FLUSH_SECONDS)
                    pending[system] = (closing, run, before, opened)
                    runs.setdefault((system, clients), []).append(run)
                tenant += 1
        for system in sides:
            settle(system)
    finally:
        readings.shutdown(cancel_futures=True)
    return {
        "levels": args.durable_levels,
        "repeat": args.repeat,
        "timed_flows": args.durable_flows,
        "warmup_flows": {clients: warmup_flows(clients) for clients in args.durable_levels},
        "poll_ms": args.durable_poll_ms,
        "settle_s": STATS_FLUSH_SECONDS,
        "phases_per_flow": phases,
        "mfo_serve_workers": 1,
        "systems": {
            system: {
                "label": label,
                "points": {clients: point(runs[(system, clients)]) for clients in args.durable_levels},
            }
            for system, label in SYSTEMS.items()
        },
    }


def warmup_flows(clients: int) -> int:
    """The flows that finish before a run's window opens: half as many as there are clients."""
    return max(1, clients // 2)


def point(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The medians of a point's runs, and every run's whole record (its counters and window included)."""
    return {**median_of(runs, FIGURES), "runs": runs}


def report_run(system: str, clients: int, run: dict[str, Any]) -> None:
    print(
        f"  round {run['round']}, {SYSTEMS[system]} at {clients}: {run['flows_per_s']} flows/s, "
        f"{run['commits_per_phase']} commits and {run['writes_per_phase']} writing transactions per phase, "
        f"p50 {run['p50_ms']} ms, errors {run['errors']}",
        flush=True,
    )
