"""The ``mfo`` command: migrate, serve, and the embedded database."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from entrypoints.local_postgres import LocalPostgres, LocalPostgresError, reachable_data_dir
from entrypoints.settings import Settings


def embedded_database(settings: Settings) -> LocalPostgres:
    return LocalPostgres(reachable_data_dir(settings.database.data_dir / "pgdata"))


def resolve_settings(settings: Settings) -> Settings:
    """The settings with a database URL: ``MFO_DATABASE_URL``, or the embedded cluster (started if needed)."""
    if settings.database.url:
        return settings
    try:
        url = embedded_database(settings).ensure_running()
    except LocalPostgresError as error:
        raise SystemExit(f"mfo: {error}") from None
    print(f"mfo: using the embedded PostgreSQL at {url}", file=sys.stderr)
    return settings.with_database_url(url)


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> int:
    from adapters.persistence.migrate import upgrade

    upgrade(resolve_settings(settings).database.url or "")
    print("mfo: database migrated to the latest schema", file=sys.stderr)
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    settings = resolve_settings(settings)
    os.environ["MFO_DATABASE_URL"] = settings.database.url or ""
    host = args.host or settings.api.host
    port = args.port or settings.api.port
    if args.workers > 1:
        uvicorn.run("entrypoints.http.asgi:app", host=host, port=port, workers=args.workers, log_level="info")
    else:
        from entrypoints.http.app import create_app

        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
    return 0


def cmd_audit(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 0 when every flow is consistent, 1 when any is not (each named on standard output)."""
    import asyncio

    from entrypoints.container import build_container

    container = build_container(resolve_settings(settings))

    async def audit() -> Any:
        try:
            return await container.auditor().audit(args.limit)
        finally:
            await container.engine().dispose()

    report = asyncio.run(audit())
    for finding in report.findings:
        tenant = f"{finding.tenant.client_account_id}/{finding.tenant.engagement_id}"
        print(
            f"{finding.flow_id} {finding.flow_type} {finding.status} v{finding.version} tenant {tenant}: "
            + "; ".join(finding.problems)
        )
    summary = f"{report.flows_checked} flows checked in {report.seconds:.3f} s, {report.inconsistent} inconsistent"
    print(f"mfo audit: {summary}", file=sys.stderr)
    return 1 if report.inconsistent else 0


def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    database = embedded_database(settings)
    if args.action == "stop":
        database.stop()
        print("mfo: embedded PostgreSQL stopped", file=sys.stderr)
    else:
        print(resolve_settings(settings).database.url)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mfo", description="MFO, the Master Flow Orchestrator")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="upgrade the database schema to the latest migration").set_defaults(
        run=cmd_migrate
    )
    serve = commands.add_parser("serve", help="serve the HTTP API (embedded PostgreSQL unless MFO_DATABASE_URL)")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(run=cmd_serve)
    audit = commands.add_parser("audit", help="check every flow's stored views agree; exit 1 when any do not")
    audit.add_argument("--limit", type=int, default=1000, help="most inconsistent flows to print")
    audit.set_defaults(run=cmd_audit)
    db = commands.add_parser("db", help="the embedded PostgreSQL: print its URL (starting it) or stop it")
    db.add_argument("action", choices=["url", "stop"])
    db.set_defaults(run=cmd_db)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(Settings.from_env(), args)


if __name__ == "__main__":
    raise SystemExit(main())
