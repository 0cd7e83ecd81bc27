"""Turn one ``make bench`` run into a printed table, bench/results/latest.json, a plot and docs/performance.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DOC = HERE.parent / "docs" / "performance.md"
PLOT = HERE.parent / "docs" / "performance-latency.png"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def spread(p: dict[str, Any], key: str) -> str:
    """The runs' range of one figure, e.g. "280-320", or "" for a single run."""
    values = [r[key] for r in p.get("runs", []) if r.get(key) is not None]
    if len(values) < 2:
        return ""
    return f"{min(values):g}-{max(values):g}"


def _level(r: dict[str, Any]) -> int:
    levels = [int(c) for c in r["pgbench_transition"]]
    return 32 if 32 in levels else max(levels)


def _at(points: dict[Any, Any], clients: int) -> dict[str, Any]:
    return points[clients] if clients in points else points[str(clients)]


def _largest(points: dict[Any, Any]) -> tuple[int, dict[str, Any]]:
    size = max(points, key=int)
    return int(size), points[size]


STATUS_LEVELS = (1, 32)
"""The concurrencies GET status is measured at for each table size: one client (a request's own latency) and 32."""


def targets(r: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(target, measured, baseline, met) for each target of the issue."""
    level = _level(r)
    http, raw = _at(r["http"]["transition"], level), _at(r["pgbench_transition"], level)
    ratio = http["throughput_rps"] / raw["throughput_rps"]
    by_size = r["status_by_table_size"]
    commits = [r["connections"][k]["commits_per_request"] for k in ("create", "transition")]
    own = r["connections"].get("transition, own-session variant", {}).get("commits_per_request")
    audit = r.get("audit", {})
    return [
        (
            f"HTTP transition throughput >= 35% of raw SQL at {level} clients",
            f"{ratio:.0%} ({http['throughput_rps']} req/s)",
            f"pgbench transition.pgbench: {raw['throughput_rps']} tps",
            ratio >= 0.35,
        ),
        (
            f"p99 of a transition < 50 ms at {level} clients",
            f"{http['p99_ms']} ms",
            f"pgbench transition.pgbench p99: {raw['p99_ms']} ms",
            http["p99_ms"] < 50,
        ),
        *(_status_target(r, _at(by_size, clients), clients) for clients in STATUS_LEVELS if _has(by_size, clients)),
        (
            "exactly 1.0 commit per state-changing request",
            f"create {commits[0]}, transition {commits[1]}",
            f"own-session variant: {own} per transition",
            # exact while autovacuum was paused; otherwise its workers may add a commit or two to a batch of 50
            all(c == 1.0 if r.get("autovacuum_paused") else round(c, 1) == 1.0 for c in commits),
        ),
        (
            f"mfo audit on {r['audited_flows']:,} flows < 5 s",
            f"{r['audit_s']} s",
            f"plain scan of the same tables: {audit['scan_s']} s" if "scan_s" in audit else "not measured",
            r["audit_s"] < 5,
        ),
        (
            "make bench from a clean clone < 15 min",
            f"{r['bench_s'] / 60:.1f} min",
            f"make test inside it: {_make_test(r)}",
            r["bench_s"] < 15 * 60,
        ),
        *open_loop_targets(r),
    ]


def _has(points: dict[Any, Any], clients: int) -> bool:
    return clients in points or str(clients) in points


def _clients(n: int | str) -> str:
    return f"{n} client{'s' if int(n) > 1 else ''}"


def _status_target(r: dict[str, Any], by_size: dict[Any, Any], clients: int) -> tuple[str, str, str, bool]:
    """The status target (it names no concurrency) read at ``clients``, beside pgbench's status p99 there."""
    size, status = _largest(by_size)
    raw = _at(r["pgbench_status"], clients) if _has(r.get("pgbench_status", {}), clients) else None
    return (
        f"p99 of GET status < 10 ms with {size:,} flows ({_clients(clients)})",
        f"{status['p99_ms']} ms",
        f"pgbench status.pgbench p99 at {clients}: {raw['p99_ms']} ms" if raw else "none",
        status["p99_ms"] < 10,
    )


OPEN_LOOP_TARGETS_MS = {"transition": 20.0, "status": 10.0}
"""The open-loop p99 each scenario must stay under on this machine, in milliseconds."""
OPEN_LOOP_NAMES = {"transition": "transition (pause/resume)", "status": "GET status"}


def open_loop_met(point: dict[str, Any]) -> bool:
    """Whether MFO's open-loop p99 of this point is under its scenario's target, with no request failed."""
    mfo = point["mfo"]
    return mfo["p99_ms"] is not None and mfo["p99_ms"] < OPEN_LOOP_TARGETS_MS[point["scenario"]] and not mfo["errors"]


def open_loop_targets(r: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(target, measured, baseline, met) for the open-loop p99 of each scenario at each rate."""
    if "open_loop" not in r:
        return []
    flows = r["open_loop"]["flows"]
    rows = []
    for point in r["open_loop"]["points"]:
        where = f" with {flows:,} flows" if point["scenario"] == "status" else ""
        rows.append(
            (
                f"open-loop p99 of {OPEN_LOOP_NAMES[point['scenario']]}{where} < "
                f"{OPEN_LOOP_TARGETS_MS[point['scenario']]:g} ms at {point['fraction']:g} of saturation "
                f"({point['rate_rps']:g}/s)",
                f"{point['mfo']['p99_ms']} ms",
                f"pgbench at the same rate: {point['pgbench']['p99_ms']} ms",
                open_loop_met(point),
            )
        )
    return rows


def _open_loop_length(o: dict[str, Any]) -> str:
    """How many requests an open-loop point records, and the longest schedule it may take."""
    requests = f"{o['requests_per_point']:,} recorded requests per point"
    if "max_seconds_per_point" not in o:
        return requests
    return f"{requests} (fewer if they would take over {o['max_seconds_per_point']:g} s; each point's are in the table)"


def open_loop_markdown(r: dict[str, Any]) -> list[str]:
    """The "Open-loop latency" section: MFO and pgbench at fixed rates, latency from each scheduled send."""
    o = r["open_loop"]
    lines = [
        "### Open-loop latency",
        "",
        f"Requests at a fixed rate (Poisson arrivals), at half and at a quarter of the throughput the same run "
        f"measured in the closed loop at {o['saturated_clients']} clients, each latency counted from the request's "
        f"scheduled send (`bench/openloop.py`; pgbench `--rate` beside it on the same SQL over "
        f"{o['pgbench_clients']} connections): {_open_loop_length(o)} after {o['warmup_s']:g} s of warm-up, at "
        f"most {o['max_in_flight']} in flight; GET status with {o['flows']:,} flows. One run per point.",
        "",
        "| scenario | rate /s (of saturated) | requests | MFO p50 ms | MFO p99 ms | MFO p99.9 ms | pgbench p50 ms "
        "| pgbench p99 ms | pgbench p99.9 ms | MFO max ms | cap waits | errors | p99 target | met |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for point in o["points"]:
        mfo, raw = point["mfo"], point["pgbench"]
        saturated = o["saturated_rps"][point["scenario"]]
        met = "yes" if open_loop_met(point) else "**no**"
        lines.append(
            f"| {OPEN_LOOP_NAMES[point['scenario']]} | {point['rate_rps']:g} ({point['fraction']:g} of "
            f"{saturated:g}) | {mfo['requests']:,} | {mfo['p50_ms']} | {mfo['p99_ms']} | {mfo['p99_9_ms']} | "
            f"{raw['p50_ms']} | {raw['p99_ms']} | {raw['p99_9_ms']} | {mfo['max_ms']} | {mfo['cap_waits']} | "
            f"{mfo['errors']} | < {OPEN_LOOP_TARGETS_MS[point['scenario']]:g} ms | {met} |"
        )
    return lines


def write_open_loop_report(r: dict[str, Any]) -> None:
    """``--only open-loop``: print its table and keep its figures in bench/results/open-loop.json (latest.json and
    docs/performance.md hold whole runs only)."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "open-loop.json").write_text(json.dumps(r, indent=2, default=str) + "\n")
    print("\n".join(open_loop_markdown(r)))


DURABLE_SYSTEMS = ("dbos", "mfo_bridge_on", "mfo_bridge_off")


def durable_markdown(r: dict[str, Any]) -> list[str]:
    """The "Durable execution" section: MFO's auto-run discovery flows against a DBOS Transact workflow of the
    same six phases (bench/durable.py)."""
    d = r["durable_execution"]
    if "error" in d:
        return ["### Durable execution: MFO against DBOS Transact", "", f"Not measured: {d['error']}"]
    paused = "autovacuum paused" if d.get("autovacuum_paused") else "autovacuum running: its commits count too"
    lines = [
        "### Durable execution: MFO against DBOS Transact",
        "",
        f"Discovery's {d['phases_per_flow']} phases on its example configuration, closed loop: MFO's auto-run flows "
        "(HTTP only: create, start with auto_run, the field_mapping input sent as soon as the flow waits; one "
        f"`mfo serve` and one `mfo worker` per side; the driver lists its unfinished flows every {d['poll_ms']:g} "
        f"ms) against DBOS Transact {d['dbos_version']} running the same handlers as a {d['phases_per_flow']}-step "
        "workflow (`bench/dbos_workflows.py`), each in a database of its own on the same cluster. Each client "
        "starts its next flow when its last one finishes; a run's window opens once half as many flows as clients "
        f"have finished and closes {d['timed_flows']} flows later (flows/s and latency from it); "
        f"{_runs(d['repeat'])}. Commits per phase: the `xact_commit` delta of the run's database "
        f"({paused}) over the phases its flows executed, all of them. A DBOS run's window is its process's life, "
        f"launch and shutdown included (a process running no workflow commits {d['dbos_process_commits']} times); "
        f"an MFO run's opens right before it and closes {d['settle_s']:g} s after it, so its worker's own polling in "
        "those seconds counts too. Writing transactions: "
        "transaction ids the cluster assigned during the run, per phase. CPU per flow: the CPU time of MFO's "
        "`mfo serve` and `mfo worker` during the run, or of DBOS's process from its first workflow to its last, over "
        "the flows completed (PostgreSQL's own not counted; the two cores are shared, so it moves less than flows/s "
        "when the machine is busy).",
        "",
        "| system | concurrent flows | flows/s | range | commits per phase | writing transactions per phase "
        "| CPU ms per flow | flow p50 ms | flow p99 ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for clients in d["levels"]:
        for system in DURABLE_SYSTEMS:
            entry = d["systems"][system]
            p = _at(entry["points"], clients)
            lines.append(
                f"| {entry['label']} | {clients} | {p['flows_per_s']} | {spread(p, 'flows_per_s')} | "
                f"{p['commits_per_phase']} | {p['writes_per_phase']} | {p.get('cpu_ms_per_flow')} | {p['p50_ms']} | "
                f"{p['p99_ms']} | {p['errors']} |"
            )
    return lines


def long_phases_markdown(p: dict[str, Any]) -> list[str]:
    """The long-phase part (bench/long_phases.py): phases running at once, reads while they run, memory."""
    if "error" in p:
        return ["### Long phases", "", f"Not measured: {p['error'][-300:]}"]
    return [
        "### Long phases",
        "",
        f"{p['flows']} auto-run flows whose one phase takes {p['phase_seconds']:g} s, on one `mfo serve` (its default "
        "pool) and one `mfo worker`; status reads of random running flows by 8 clients while every phase runs.",
        "",
        "| figure | value | target |",
        "| --- | ---: | --- |",
        f"| phases running at once | {p['running_at_once']} of {p['flows']} | all |",
        f"| flows completed | {p['completed']} | all |",
        f"| 5xx answers | {p['five_xx']} | 0 |",
        f"| status p50 / p95 / p99 while they run | {p['status_p50_ms']} / {p['status_p95_ms']} / "
        f"{p['status_p99_ms']} ms | p99 < 100 ms |",
        f"| status reads made | {p['status_reads']} | |",
        f"| worker RSS idle / with every phase running | {p['worker_rss_idle_mb']} / "
        f"{p['worker_rss_running_mb']} MB | |",
        f"| worker memory per running phase | {p['worker_kb_per_running_phase']} KB | |",
        f"| MFO's database connections while they run | {p['database_connections_while_running']} | |",
        f"| commits per flow (create, start, its phase, polls and heartbeats) | {p['commits_per_flow']} | |",
    ]


def _runs(repeat: int) -> str:
    return "one run" if repeat == 1 else f"median of {repeat} runs (range beside it)"


def write_durable_report(r: dict[str, Any]) -> None:
    """``--only durable-execution``: print its table and keep its figures in bench/results/durable-execution.json
    (latest.json and docs/performance.md hold whole runs only)."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "durable-execution.json").write_text(json.dumps(r, indent=2, default=str) + "\n")
    print("\n".join(durable_markdown(r)))


def _make_test(r: dict[str, Any]) -> str:
    tests = r.get("make_test")
    if not tests:
        return "not measured (no make test recorded on this machine)"
    status = "" if tests.get("exit_status") in (None, 0) else f", exit status {tests['exit_status']}"
    return f"{tests['seconds']:.0f} s ({tests['source']}{status})"


def markdown(r: dict[str, Any]) -> str:
    repeat = r.get("repeat", 1)
    lines = [
        f"Workers: {r['workers']}. Every point ran {repeat} times ({r['duration_s']} s recorded after "
        f"{r.get('warmup_s', 1.0)} s of warm-up, in rounds over all points); each figure is the **median of the "
        f"{repeat} runs**, with the runs' range beside the p99. The whole run took {r['bench_s']} s, "
        f"`make test` included: {_make_test(r)}.",
        "",
        "| scenario | clients | req/s | p50 ms | p95 ms | p99 ms | p99 range | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for scenario, points in r["http"].items():
        for clients, p in points.items():
            lines.append(
                f"| {scenario} | {clients} | {p['throughput_rps']} | {p['p50_ms']} | {p['p95_ms']} | "
                f"{p['p99_ms']} | {spread(p, 'p99_ms')} | {p['errors']} |"
            )
    lines += [
        "",
        "| against raw SQL (pgbench, same cluster) | clients | HTTP req/s | raw tps | HTTP ÷ raw | HTTP p99 ms "
        "| raw p99 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, scenario, key in (
        ("pause/resume", "transition", "pgbench_transition"),
        ("status", "status", "pgbench_status"),
    ):
        for clients, raw in r.get(key, {}).items():
            http = r["http"][scenario][clients]
            lines.append(
                f"| {name} | {clients} | {http['throughput_rps']} | {raw['throughput_rps']} | "
                f"{http['throughput_rps'] / raw['throughput_rps']:.0%} | {http['p99_ms']} | {raw['p99_ms']} |"
            )
    lines += [
        "",
        "| GET status by table size | clients | p50 ms | p99 ms | p99 range |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for clients, by_size in r["status_by_table_size"].items():
        for size, p in by_size.items():
            lines.append(f"| {int(size):,} flows | {clients} | {p['p50_ms']} | {p['p99_ms']} | {spread(p, 'p99_ms')} |")
    paused = "autovacuum paused" if r.get("autovacuum_paused") else "autovacuum running: its commits count too"
    lines += [
        "",
        f"| per request (from pg_stat_database; {paused}) | commits | new sessions |",
        "| --- | ---: | ---: |",
    ]
    for name, c in r["connections"].items():
        lines.append(f"| {name} | {c['commits_per_request']} | {c['sessions_per_request']} |")
    imports = r["crewai_import_s"]
    audit = r.get("audit", {})
    runs = ", ".join(f"{a:g}" for a in audit.get("runs", []))
    lines += [
        "",
        f"Peak RSS of a server worker: {r['worker_peak_rss_mb']} MB. Importing crewai.flow.flow: "
        f"{imports['crewai.flow.flow']} s (litestar: {imports['litestar']} s). `mfo audit` on {r['audited_flows']:,} "
        f"flows: {r['audit_s']} s (median; runs {runs}), against {audit.get('scan_s')} s for a plain scan of the "
        "same tables.",
    ]
    if "open_loop" in r:
        lines += ["", *open_loop_markdown(r)]
    if "durable_execution" in r:
        lines += ["", *durable_markdown(r)]
    if "long_phases" in r:
        lines += ["", *long_phases_markdown(r["long_phases"])]
    lines += [
        "",
        "| target | measured (median) | baseline | met |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {name} | {value} | {base} | {'yes' if ok else '**no**'} |" for name, value, base, ok in targets(r)]
    lines += ["", "![latency](performance-latency.png)"]
    return "\n".join(lines)


def plot(r: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for scenario, points in r["http"].items():
        clients = [int(c) for c in points]
        left.plot(clients, [p["p99_ms"] for p in points.values()], marker="o", label=scenario)
    left.set(
        xscale="log",
        yscale="log",
        xlabel="concurrent clients",
        ylabel="p99 latency (ms)",
        title="p99 latency by concurrency",
    )
    left.legend()
    for clients, by_size in r["status_by_table_size"].items():
        sizes = [int(s) for s in by_size]
        for key in ("p50_ms", "p99_ms"):
            right.plot(sizes, [p[key] for p in by_size.values()], marker="o", label=f"{key[:3]}, {_clients(clients)}")
    right.set(
        xscale="log",
        yscale="log",
        xlabel="flows in the table",
        ylabel="GET status latency (ms)",
        title="GET status by table size",
    )
    right.legend()
    figure.tight_layout()
    figure.savefig(PLOT, dpi=100)


def write_report(r: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(r, indent=2, default=str) + "\n")
    table = markdown(r)
    print(table)
    plot(r)
    if DOC.exists():
        doc = DOC.read_text()
        start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
        DOC.write_text(doc[:start] + "\n" + table + "\n" + doc[end:])
