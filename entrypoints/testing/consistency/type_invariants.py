"""A flow type's own invariants, checked after every step of the harness beside MFO's.

An invariant is a function of the stored flow (the master row, as ``Flow``) and its child record (``ChildRecord``:
the shared columns and the type's own, in ``details``) that returns what is wrong, or None when all is well::

    def rooms_counted(flow: Flow, child: ChildRecord) -> str | None:
        if "survey" in flow.phase_results and child.details["room_count"] != len(flow.configuration["rooms"]):
            return f"{child.details['room_count']} rooms counted, {len(flow.configuration['rooms'])} configured"
        return None

A type's author hands them to the harness through the pytest hook ``pytest_mfo_consistency_invariants``
(``entrypoints/testing/hooks.py``), keyed by the type's name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from domain.flow import Flow
from domain.ports import ChildRecord

TypeInvariant = Callable[[Flow, ChildRecord], "str | None"]


@dataclass(frozen=True)
class TypeInvariants:
    by_type: Mapping[str, tuple[TypeInvariant, ...]] = field(default_factory=dict)

    @classmethod
    def merged(cls, answers: Iterable[Mapping[str, Iterable[TypeInvariant]] | None]) -> TypeInvariants:
        """The invariants of every hook implementation's answer together."""
        by_type: dict[str, tuple[TypeInvariant, ...]] = {}
        for answer in answers:
            for flow_type, checks in (answer or {}).items():
                by_type[flow_type] = (*by_type.get(flow_type, ()), *checks)
        return cls(by_type)

    def problems(self, flow: Flow, child: ChildRecord) -> list[str]:
        """What the invariants of ``flow``'s type find wrong, each named after its function."""
        found = []
        for check in self.by_type.get(flow.flow_type, ()):
            problem = check(flow, child)
            if problem is not None:
                found.append(f"{getattr(check, '__name__', repr(check))}: {problem}")
        return found
