"""``mfo --version``, ``mfo openapi`` (no database needed) and ``mfo serve --reload``, as an operator runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

import httpx

from entrypoints.http.app import create_app
from entrypoints.local_postgres import free_port
from entrypoints.settings import Settings
from tests.support import Hopeless, eventually_sync

REPOSITORY = Path(__file__).resolve().parents[2]


def mfo(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {name: value for name, value in os.environ.items() if name != "MFO_DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", *args],
        env={**environment, **env},
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_version_comes_from_the_package_metadata() -> None:
    done = mfo("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"mfo {version('mfo')}"


def test_openapi_prints_the_apps_schema_with_sorted_keys_and_needs_no_database(tmp_path: Path) -> None:
    data_dir = tmp_path / "never-used"
    done = mfo("openapi", MFO_DATA_DIR=str(data_dir))
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    assert done.stdout.strip() == json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False)
    assert not data_dir.exists()  # no embedded database was started for it
    assert {"/livez", "/readyz", "/health", "/api/v1/flows"} <= set(schema["paths"])
    from litestar.serialization import encode_json

    app_schema = json.loads(encode_json(create_app(Settings()).openapi_schema.to_schema()))
    assert operations(schema) == operations(app_schema)  # what GET /schema/openapi.json serves
    assert schema["info"] == app_schema["info"] and set(schema["components"]) == set(app_schema["components"])


def operations(schema: dict) -> set[tuple[str, str, str]]:
    """Every operation: path, method, operation id (component schemas built in a process that has built other apps
    may differ in form, so the whole documents are not compared)."""
    return {
        (path, method, operation["operationId"])
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        if isinstance(operation, dict) and "operationId" in operation
    }


def test_serve_reload_runs_the_server_under_uvicorns_reloader(migrated_url: str) -> None:
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="mfo-reload-", suffix=".log")[1])
    environment = {**os.environ, "MFO_DATABASE_URL": migrated_url, "MFO_AUTH_MODE": "dev", "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", "serve", "--reload", "--port", str(port)],
            env=environment,
            cwd=REPOSITORY,
            stdout=output,
            stderr=output,
            start_new_session=True,  # the reloader and its server: stopped together below
        )
    try:

        def alive() -> bool:
            if process.poll() is not None:
                raise Hopeless(f"mfo serve --reload exited with {process.returncode}")
            try:
                return httpx.get(f"http://127.0.0.1:{port}/livez", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        eventually_sync(alive, within=180, what="the reloaded server answering /livez", every=0.2, detail=log.read_text)
        output_text = log.read_text(errors="replace")
        assert "Started reloader process" in output_text, output_text[-3000:]
        assert str(REPOSITORY / "entrypoints") in output_text  # it watches the source packages
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        log.unlink(missing_ok=True)


def test_reload_refuses_several_workers() -> None:
    done = mfo("serve", "--reload", "--workers", "2", MFO_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    assert done.returncode != 0 and "--reload runs one process" in done.stderr
