"""Generate the Python client (``clients/python``) from ``docs/openapi.json`` with the pinned openapi-python-client.

``make client`` runs it; the staleness test runs :func:`generate` into a temporary folder and compares. The generator
reads only the committed document and ``clients/python-client.yaml`` (no network), runs no post hooks (no formatter
whose version would change the output) and writes the same bytes every time.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "docs" / "openapi.json"
CONFIG = ROOT / "clients" / "python-client.yaml"
OUTPUT = ROOT / "clients" / "python"
GENERATOR = Path(sys.executable).parent / "openapi-python-client"


def generate(output: Path = OUTPUT, document: Path = DOCUMENT) -> None:
    """Write the client generated from ``document`` to ``output`` (replacing what is there)."""
    subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(document),
            "--config",
            str(CONFIG),
            "--meta",
            "setup",
            "--output-path",
            str(output),
            "--overwrite",
            "--fail-on-warning",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


if __name__ == "__main__":
    generate()
    print(f"wrote {OUTPUT.relative_to(ROOT)} from {DOCUMENT.relative_to(ROOT)}", file=sys.stderr)
