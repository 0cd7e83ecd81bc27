"""The ``mfo`` command: migrate, serve, the OpenAPI document, audit, tokens and API keys, and the embedded database."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from entrypoints.local_postgres import LocalPostgres, LocalPostgresError, reachable_data_dir
from entrypoints.settings import Settings


def embedded_database(settings: Settings) -> LocalPostgres:
    return LocalPostgres(reachable_data_dir(settings.database.data_dir / "pgdata"))


def resolve_settings(settings: Settings) -> Settings:
    """The settings with a database URL: ``MFO_DATABASE_URL``, or the embedded cluster (started if needed). A host
    list that does not read (a port that is no number, hosts and ports that do not pair up) stops here, named."""
    if settings.database.url:
        _check_database_urls(settings)
        return settings
    try:
        url = embedded_database(settings).ensure_running()
    except LocalPostgresError as error:
        raise SystemExit(f"mfo: {error}") from None
    print(f"mfo: using the embedded PostgreSQL at {url}", file=sys.stderr)
    return settings.with_database_url(url)


def _check_database_urls(settings: Settings) -> None:
    from adapters.persistence.database_url import InvalidDatabaseUrl, asyncpg_dsn

    for name, url in (("MFO_DATABASE_URL", settings.database.url), ("MFO_APP_DATABASE_URL", settings.database.app_url)):
        if url:
            try:
                asyncpg_dsn(url)
            except InvalidDatabaseUrl as error:
                raise SystemExit(f"mfo: {name}: {error}") from None


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> int:
    from adapters.persistence.migrate import upgrade

    database = resolve_settings(settings).database
    upgrade(database.url or "", app_role=database.app_role, app_password=database.app_password)
    print("mfo: database migrated to the latest schema", file=sys.stderr)
    return 0


ASGI_APP = "entrypoints.http.asgi:app"
SOURCE_PACKAGES = ("domain", "application", "adapters", "entrypoints")


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from entrypoints.container import server_log_config

    settings = resolve_settings(settings)
    # what uvicorn's worker processes read: the URL resolved here, its password included
    os.environ["MFO_DATABASE_URL"] = settings.database.url or ""
    for given_apart in ("MFO_DATABASE_URL_FILE", "MFO_DATABASE_PASSWORD", "MFO_DATABASE_PASSWORD_FILE"):
        os.environ.pop(given_apart, None)
    host = args.host or settings.api.host
    port = args.port or settings.api.port
    logs = server_log_config(settings)
    # no access log: MFO's own "request finished" line is one, with the request id, tenant and flow id as well
    options: dict[str, Any] = {"host": host, "port": port, "log_config": logs, "access_log": False}
    if args.reload:
        if args.workers > 1:
            raise SystemExit("mfo serve: --reload runs one process; it takes no --workers")
        # uvicorn's reloader restarts the server (importing the app anew) whenever a source file changes
        root = Path(__file__).resolve().parents[1]
        uvicorn.run(ASGI_APP, reload=True, reload_dirs=[str(root / name) for name in SOURCE_PACKAGES], **options)
    elif args.workers > 1:
        # The workers share their Prometheus counters through files in this (empty) folder: /metrics adds them up.
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="mfo-prometheus-")
        uvicorn.run(ASGI_APP, workers=args.workers, **options)
    else:
        from entrypoints.draining_server import serve
        from entrypoints.http.app import create_app

        app = create_app(settings, background_worker=settings.worker.in_serve)
        serve(uvicorn.Config(app, **options), app.state.readiness, settings.api.shutdown_grace_seconds)
    return 0


def cmd_openapi(settings: Settings, _: argparse.Namespace) -> int:
    """Print the app's OpenAPI document (JSON, sorted keys) to standard output; no database is needed."""
    from entrypoints.http.openapi_document import app_schema, render

    print(render(app_schema(settings)), end="")
    return 0


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mfo")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def cmd_worker(settings: Settings, _: argparse.Namespace) -> int:
    """Claim and run due phase work until SIGTERM or SIGINT; any number may run against one database."""
    import asyncio
    import logging.config
    import signal

    from entrypoints.container import build_container, close_databases, server_log_config

    settings = resolve_settings(settings)
    logging.config.dictConfig(server_log_config(settings))  # the same lines as mfo serve's (JSON by default)
    container = build_container(settings)

    async def work() -> None:
        from entrypoints.version_check import refuse_unregistered_versions

        await refuse_unregistered_versions(container.maintenance_orchestrator)
        runner = container.phase_runner()
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        runner.start()
        print(f"mfo worker: running due phase work as {runner.owner}", file=sys.stderr, flush=True)
        try:
            await stopping.wait()
        finally:
            await runner.stop()
            await close_databases(container)

    asyncio.run(work())
    print("mfo worker: stopped", file=sys.stderr)
    return 0


def cmd_audit(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 0 when every flow is consistent, 1 when any is not (each named on standard output)."""
    import asyncio

    from application.consistency import InvalidAuditLimit, checked_limit
    from entrypoints.container import build_container, close_databases

    try:
        checked_limit(args.limit)
    except InvalidAuditLimit as error:
        raise SystemExit(f"mfo audit: --{error}") from None
    container = build_container(resolve_settings(settings))

    async def audit() -> Any:
        try:
            return (await container.consistency_monitor().audit_now("cli", args.limit)).report
        finally:
            await close_databases(container)

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


def _tenant(args: argparse.Namespace) -> Any:
    from uuid import UUID, uuid4

    from domain.events import Tenant

    try:
        return Tenant(
            UUID(args.client_account_id) if args.client_account_id else uuid4(),
            UUID(args.engagement_id) if args.engagement_id else uuid4(),
        )
    except ValueError:
        raise SystemExit("mfo: --client-account-id and --engagement-id must be UUIDs") from None


def _scope(args: argparse.Namespace) -> Any:
    """(tenant, role): the tenant and role the options name, or (None, platform) with ``--platform``."""
    from domain.auth import Role

    if not args.platform:
        return _tenant(args), Role(args.role or "operator")
    if args.client_account_id or args.engagement_id or args.role:
        raise SystemExit("mfo: --platform takes no tenant and no role (--client-account-id, --engagement-id, --role)")
    return None, Role.PLATFORM


def _describe(tenant: Any) -> str:
    return "the platform (no tenant)" if tenant is None else f"tenant {tenant.client_account_id}/{tenant.engagement_id}"


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    """Print a signed JWT for a tenant and role, or with ``--platform`` for the platform operator (HS256 with
    MFO_JWT_SECRET, RS256 with MFO_JWT_PRIVATE_KEY_FILE)."""
    from entrypoints.container import build_jwt_codec

    tenant, role = _scope(args)
    ttl = args.ttl or settings.auth.token_ttl_seconds
    try:
        token = build_jwt_codec(settings).mint(tenant, role, args.subject, ttl_seconds=ttl)
    except RuntimeError as error:
        raise SystemExit(f"mfo: {error} (or MFO_AUTH_MODE=dev for the development secret)") from None
    print(token)
    print(f"mfo: {role} token for {args.subject}, {_describe(tenant)}, valid {ttl} s", file=sys.stderr)
    return 0


def cmd_api_key(settings: Settings, args: argparse.Namespace) -> int:
    """Create an API key (printed once; only its hash is stored) or revoke one by its id."""
    import asyncio

    from entrypoints.container import build_container, close_databases

    tenant, role = _scope(args) if args.action == "create" else (None, None)
    container = build_container(resolve_settings(settings))
    store = container.api_key_store()

    async def run() -> int:
        try:
            if args.action == "revoke":
                revoked = await store.revoke(args.key_id)
                print(
                    f"mfo: API key {args.key_id} " + ("revoked" if revoked else "not found or already revoked"),
                    file=sys.stderr,
                )
                return 0 if revoked else 1
            created = await store.create(tenant, role, args.name)
            print(created.key)
            print(
                f"mfo: API key {created.key_id} ({role}, {args.name}) for {_describe(tenant)}; "
                "it is shown only this once",
                file=sys.stderr,
            )
            return 0
        finally:
            await close_databases(container)

    return asyncio.run(run())


def _add_tenant_and_role(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--client-account-id", default=None, help="a UUID (a new one when omitted)")
    parser.add_argument("--engagement-id", default=None, help="a UUID (a new one when omitted)")
    parser.add_argument("--role", choices=["viewer", "operator", "admin"], default=None, help="default: operator")
    parser.add_argument(
        "--platform",
        action="store_true",
        help="for the platform operator instead: no tenant; only the system-wide routes (audit, usage, /metrics)",
    )


def cmd_purge_keys(settings: Settings, args: argparse.Namespace) -> int:
    """Delete the idempotency keys that have expired."""
    import asyncio

    from entrypoints.container import build_container, close_databases
    from entrypoints.idempotency_purge import purge_once

    container = build_container(resolve_settings(settings))

    async def purge() -> int:
        try:
            return await purge_once(container.maintenance_orchestrator)
        finally:
            await close_databases(container)

    print(f"mfo purge-keys: {asyncio.run(purge())} expired idempotency keys deleted", file=sys.stderr)
    return 0


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
    parser.add_argument("--version", action="version", version=f"mfo {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="upgrade the database schema to the latest migration").set_defaults(
        run=cmd_migrate
    )
    serve = commands.add_parser("serve", help="serve the HTTP API (embedded PostgreSQL unless MFO_DATABASE_URL)")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--reload", action="store_true", help="development: restart whenever a source file changes")
    serve.set_defaults(run=cmd_serve)
    commands.add_parser(
        "openapi", help="print the API's OpenAPI document (JSON, sorted keys); needs no database"
    ).set_defaults(run=cmd_openapi)
    commands.add_parser(
        "worker", help="run background phases of auto-run flows (any number, on any machine sharing the database)"
    ).set_defaults(run=cmd_worker)
    audit = commands.add_parser("audit", help="check every flow's stored views agree; exit 1 when any do not")
    audit.add_argument("--limit", type=int, default=1000, help="most inconsistent flows to print")
    audit.set_defaults(run=cmd_audit)
    token = commands.add_parser(
        "token", help="print a signed JWT for a tenant and role, or for the platform operator (--platform)"
    )
    _add_tenant_and_role(token)
    token.add_argument("--subject", default="developer", help="who the token names (the events' actor)")
    token.add_argument("--ttl", type=int, default=None, help="seconds the token is valid (MFO_TOKEN_TTL_SECONDS)")
    token.set_defaults(run=cmd_token)
    api_key = commands.add_parser("api-key", help="create an API key (printed once) or revoke one")
    api_key_actions = api_key.add_subparsers(dest="action", required=True)
    create = api_key_actions.add_parser(
        "create", help="create a key for a tenant and role, or for the platform operator (--platform); prints it once"
    )
    _add_tenant_and_role(create)
    create.add_argument("--name", required=True, help="what the key is for (the events' actor is api-key:NAME)")
    create.set_defaults(run=cmd_api_key)
    revoke = api_key_actions.add_parser("revoke", help="revoke a key by its id (the part after mfo_)")
    revoke.add_argument("key_id")
    revoke.set_defaults(run=cmd_api_key)
    commands.add_parser("purge-keys", help="delete expired idempotency keys").set_defaults(run=cmd_purge_keys)
    db = commands.add_parser("db", help="the embedded PostgreSQL: print its URL (starting it) or stop it")
    db.add_argument("action", choices=["url", "stop"])
    db.set_defaults(run=cmd_db)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(Settings.from_env(), args)


if __name__ == "__main__":
    raise SystemExit(main())
