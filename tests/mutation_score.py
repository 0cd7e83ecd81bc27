"""The mutation score of the last ``mutmut run``: killed / total per module and in all, and the survivors.

``python -m tests.mutation_score [--min 95] [--not-gated GLOB ...]`` reads ``mutmut results --all true`` (run it from
the repository root, after ``mutmut run``) and exits 1 when the gated modules' score is below ``--min`` percent.
A mutant counts as killed when a test failed on it (killed, timeout, segfault, caught by type check); every other
status (survived, no tests, suspicious, skipped, not checked) counts against the score. Modules matching a
``--not-gated`` glob (a path such as ``application/orchestrator.py``) are measured and shown, but left out of the
gate.
"""

from __future__ import annotations

import argparse
import fnmatch
import re
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

KILLED = frozenset({"killed", "timeout", "segfault", "caught by type check"})
_LINE = re.compile(r"^\s*(?P<name>\S+): (?P<status>.+?)\s*$")
_MODULE = re.compile(r"^(?P<module>[\w.]+?)\.x[ǁ_]")


@dataclass(frozen=True)
class Mutant:
    name: str
    status: str

    @property
    def path(self) -> str:
        match = _MODULE.match(self.name)
        module = match["module"] if match else self.name.rsplit(".", 1)[0]
        return module.replace(".", "/") + ".py"

    @property
    def killed(self) -> bool:
        return self.status in KILLED


def parse(results: str) -> list[Mutant]:
    return [Mutant(m["name"], m["status"]) for line in results.splitlines() if (m := _LINE.match(line))]


def percent(killed: int, total: int) -> float:
    return 100.0 * killed / total if total else 100.0


def score_line(label: str, mutants: list[Mutant]) -> str:
    killed = sum(m.killed for m in mutants)
    return f"{label:<48} {killed:>5} / {len(mutants):<5} {percent(killed, len(mutants)):6.1f} %"


def report(mutants: list[Mutant], minimum: float, not_gated: list[str]) -> tuple[str, bool]:
    by_path: dict[str, list[Mutant]] = defaultdict(list)
    for mutant in mutants:
        by_path[mutant.path].append(mutant)
    gated = [m for m in mutants if not any(fnmatch.fnmatch(m.path, glob) for glob in not_gated)]
    lines = [f"{'module':<48} {'killed / total':>13}  score"]
    lines += [score_line(path, by_path[path]) for path in sorted(by_path)]
    lines.append(score_line("all modules", mutants))
    lines.append(score_line(f"gated (all but {', '.join(not_gated)})" if not_gated else "gated", gated))
    survivors = [m for m in gated if not m.killed]
    lines.append(f"\n{len(survivors)} gated survivor(s) (mutmut show NAME prints the change):")
    lines += [f"  {m.name}: {m.status}" for m in survivors]
    killed = sum(m.killed for m in gated)
    passed = bool(gated) and percent(killed, len(gated)) >= minimum
    lines.append(
        f"\nmutation score {percent(killed, len(gated)):.1f} % (gated) "
        + ("meets" if passed else "is below")
        + f" the {minimum:g} % minimum"
    )
    return "\n".join(lines), passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", type=float, default=95.0, help="the gated score to reach, in percent")
    parser.add_argument("--not-gated", nargs="*", default=[], metavar="GLOB", help="modules measured but not gated")
    parser.add_argument("--mutmut", default=str(Path(sys.executable).with_name("mutmut")), help="the mutmut command")
    args = parser.parse_args(argv)
    results = subprocess.run([args.mutmut, "results", "--all", "true"], capture_output=True, text=True, check=True)
    mutants = parse(results.stdout)
    if not mutants:
        print("no mutants found: run mutmut run first", file=sys.stderr)
        return 2
    text, passed = report(mutants, args.min, args.not_gated)
    print(text)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
