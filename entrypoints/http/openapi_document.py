"""The app's OpenAPI document as committed in ``docs/openapi.json``: the contract clients are generated from.

``python -m entrypoints.http.openapi_document`` (``make openapi``) writes it, refusing a breaking change against the
committed one (:mod:`entrypoints.http.openapi_compat`) unless ``ALLOW_BREAKING=1``; ``--print`` prints it instead,
``--check`` only says whether the committed file is current. The text is deterministic: the schema Litestar serves at
``/schema/openapi.json``, with sorted keys, two-space indents and a final newline.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litestar.serialization import encode_json

from entrypoints.http.openapi_compat import breaking_changes

if TYPE_CHECKING:
    from entrypoints.settings import Settings

DOCUMENT_PATH = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
"""``docs/openapi.json`` of a source checkout."""


def app_schema(settings: Settings | None = None) -> dict[str, Any]:
    """The OpenAPI schema of an app built on ``settings`` (default: the default settings); building it opens no
    connection."""
    from entrypoints.http.app import create_app
    from entrypoints.settings import Settings

    app = create_app(settings or Settings())
    return json.loads(encode_json(app.openapi_schema.to_schema()))


def render(schema: dict[str, Any]) -> str:
    """The committed form of a schema."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(path: Path, schema: dict[str, Any], *, allow_breaking: bool) -> list[str]:
    """Write ``schema`` to ``path`` unless it breaks the one there: the breaking changes (nothing written if any)."""
    text = render(schema)
    if path.exists():
        committed = path.read_text(encoding="utf-8")
        if committed == text:
            return []
        problems = breaking_changes(json.loads(committed), schema)
        if problems and not allow_breaking:
            return problems
    path.write_text(text, encoding="utf-8")
    return []


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m entrypoints.http.openapi_document", description=__doc__)
    parser.add_argument("--output", type=Path, default=DOCUMENT_PATH, help="where to write (docs/openapi.json)")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--print", action="store_true", help="print the document instead of writing it")
    action.add_argument("--check", action="store_true", help="exit 1 unless the file holds the current document")
    args = parser.parse_args(argv)
    schema = app_schema()
    if args.print:
        sys.stdout.write(render(schema))
        return 0
    current = args.output.exists() and args.output.read_text(encoding="utf-8") == render(schema)
    if args.check:
        if not current:
            print(f"{args.output} is not the app's schema: run `make openapi`", file=sys.stderr)
        return 0 if current else 1
    if current:
        print(f"{args.output} is up to date", file=sys.stderr)
        return 0
    problems = write(args.output, schema, allow_breaking=os.environ.get("ALLOW_BREAKING") == "1")
    if problems:
        print(f"refusing to overwrite {args.output}: the app's schema breaks it", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        print("make it compatible, or run `ALLOW_BREAKING=1 make openapi` to accept the break", file=sys.stderr)
        return 1
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
