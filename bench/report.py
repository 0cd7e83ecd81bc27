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


def targets(r: dict[str, Any]) -> list[tuple[str, str, bool]]:
    level = 32 if 32 in r["pgbench_transition"] else max(r["pgbench_transition"])
    http32, raw32 = r["http"]["transition"][level], r["pgbench_transition"][level]
    ratio = http32["throughput_rps"] / raw32["tps"]
    status = r["status_by_table_size"][max(r["status_by_table_size"])]
    commits = [r["connections"][k]["commits_per_request"] for k in ("create", "transition")]
    return [
        (f"HTTP transition throughput >= 35% of raw SQL at {level} clients", f"{ratio:.0%}", ratio >= 0.35),
        (f"p99 of a transition < 50 ms at {level} clients", f"{http32['p99_ms']} ms", http32["p99_ms"] < 50),
        (
            "p99 of GET status < 10 ms with the largest table (32 clients)",
            f"{status['p99_ms']} ms",
            status["p99_ms"] < 10,
        ),
        ("exactly 1.0 commit per state-changing request", ", ".join(map(str, commits)), all(c == 1.0 for c in commits)),
        ("mfo audit on the largest table < 5 s", f"{r['audit_s']} s", r["audit_s"] < 5),
    ]


def markdown(r: dict[str, Any]) -> str:
    lines = [f"Workers: {r['workers']}; {r['duration_s']} s per point; run took {r['bench_s']} s.", ""]
    lines += [
        "| scenario | clients | req/s | p50 ms | p95 ms | p99 ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for scenario, points in r["http"].items():
        for clients, p in points.items():
            lines.append(
                f"| {scenario} | {clients} | {p['throughput_rps']} | {p['p50_ms']} | {p['p95_ms']} | "
                f"{p['p99_ms']} | {p['errors']} |"
            )
    lines += [
        "",
        "| transition | clients | HTTP req/s | raw SQL tps (pgbench) | HTTP ÷ raw |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for clients, raw in r["pgbench_transition"].items():
        http = r["http"]["transition"][clients]["throughput_rps"]
        lines.append(f"| pause/resume | {clients} | {http} | {raw['tps']} | {http / raw['tps']:.0%} |")
    lines += ["", "| GET status, 32 clients | p50 ms | p99 ms |", "| --- | ---: | ---: |"]
    for size, p in r["status_by_table_size"].items():
        lines.append(f"| {int(size):,} flows | {p['p50_ms']} | {p['p99_ms']} |")
    lines += ["", "| per request (from pg_stat_database) | commits | new sessions |", "| --- | ---: | ---: |"]
    for name, c in r["connections"].items():
        lines.append(f"| {name} | {c['commits_per_request']} | {c['sessions_per_request']} |")
    imports = r["crewai_import_s"]
    lines += [
        "",
        f"Peak RSS of a server worker: {r['worker_peak_rss_mb']} MB. Importing crewai.flow.flow: "
        f"{imports['crewai.flow.flow']} s (litestar: {imports['litestar']} s). `mfo audit` on {r['audited_flows']:,} "
        f"flows: {r['audit_s']} s. Last `make test`: "
        + (f"{r['make_test_s']:.0f} s." if r.get("make_test_s") else "not recorded on this machine."),
        "",
        "| target | measured | met |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {name} | {value} | {'yes' if ok else '**no**'} |" for name, value, ok in targets(r)]
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
    sizes = [int(s) for s in r["status_by_table_size"]]
    for key in ("p50_ms", "p99_ms"):
        right.plot(sizes, [p[key] for p in r["status_by_table_size"].values()], marker="o", label=key)
    right.set(
        xscale="log",
        xlabel="flows in the table",
        ylabel="GET status latency (ms)",
        title="GET status by table size (32 clients)",
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
