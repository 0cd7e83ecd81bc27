"""The README's configuration tables, made from the settings' own fields (``make settings-doc``).

Each table sits between ``<!-- settings-table: NAME -->`` and ``<!-- /settings-table -->`` in README.md;
``python -m entrypoints.settings_doc`` rewrites them, ``--check`` only says whether they are current (exit 1 if not).
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo

from entrypoints.environment import GROUPS
from entrypoints.settings_reading import SECRET, Variables, variable_of

BLOCK = re.compile(r"(<!-- settings-table: (?P<name>[a-z-]+) -->\n)(?P<table>.*?)(<!-- /settings-table -->)", re.DOTALL)
HEADER = "| variable | default | meaning |\n| --- | --- | --- |\n"


def shown_default(field: FieldInfo) -> str:
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    if "shown_default" in extra:
        return str(extra["shown_default"])
    value: Any = field.default
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = f"{value:g}"
    elif isinstance(value, datetime):
        text = value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    else:
        text = str(value)
    return f"`{text}`" if text else "(empty)"


def row(name: str, field: FieldInfo) -> str:
    variable = f"`{variable_of(name)}`"
    if SECRET in field.metadata:
        variable += f" or `{variable_of(name)}_FILE`"
    return f"| {variable} | {shown_default(field)} | {field.description or ''} |\n"


def table(name: str, groups: tuple[type[Variables], ...] = GROUPS) -> str:
    fields = [field for group in groups if group.readme_table == name for field in group.model_fields.items()]
    rows = [row(field_name, field) for field_name, field in fields]
    if not rows:
        raise ValueError(f"no settings belong to a README table named {name!r}")
    return HEADER + "".join(rows)


def rendered(readme: str) -> str:
    """``readme`` with each settings table made anew."""
    return BLOCK.sub(lambda found: found.group(1) + table(found.group("name")) + found.group(4), readme)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("readme", nargs="?", default="README.md", type=Path)
    parser.add_argument("--check", action="store_true", help="only report whether the tables are current")
    args = parser.parse_args(argv)
    current = args.readme.read_text()
    fresh = rendered(current)
    if args.check:
        if fresh != current:
            print(f"{args.readme}: the settings tables are out of date: run make settings-doc", file=sys.stderr)
            return 1
        return 0
    if fresh != current:
        args.readme.write_text(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
