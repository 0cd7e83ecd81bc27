"""A flow's execution contract: what it runs under, fixed when it is created.

A flow records, at creation, its flow type's version and how that version runs: the phases, the phases that wait
for input, each phase's policy and whether its phases run through the CrewAI bridge. The flow keeps running under
that contract whatever the deployment's settings say later; the settings choose the contract of new flows only.
Moving a flow to another version is an explicit migration (:func:`plan_migration`), one event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.phase_policy import Backoff, PhasePolicy


@dataclass(frozen=True)
class RecordedPolicy:
    """A phase policy as a flow records it: its numbers, and the names of the errors it never retries (the types
    themselves live in the code of the flow type's version)."""

    timeout_seconds: float
    max_attempts: int
    backoff: Backoff
    never_retry: tuple[str, ...] = ()

    @classmethod
    def of(cls, policy: PhasePolicy) -> RecordedPolicy:
        return cls(
            policy.timeout_seconds,
            policy.max_attempts,
            policy.backoff,
            tuple(error.__name__ for error in policy.never_retry),
        )

    def to_data(self) -> dict[str, Any]:
        b = self.backoff
        return {
            "timeout_seconds": self.timeout_seconds,
            "max_attempts": self.max_attempts,
            "backoff": {
                "initial_seconds": b.initial_seconds,
                "multiplier": b.multiplier,
                "maximum_seconds": b.maximum_seconds,
                "jitter": b.jitter,
            },
            "never_retry": list(self.never_retry),
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> RecordedPolicy:
        return cls(
            float(data["timeout_seconds"]),
            int(data["max_attempts"]),
            Backoff(**{k: float(v) for k, v in data["backoff"].items()}),
            tuple(data.get("never_retry") or ()),
        )

    def applied(self, declared: PhasePolicy) -> PhasePolicy:
        """The policy a phase runs under: these numbers, and the declared errors among those named here."""
        never = tuple(error for error in declared.never_retry if error.__name__ in self.never_retry)
        return PhasePolicy(self.timeout_seconds, self.max_attempts, self.backoff, never)


@dataclass(frozen=True)
class ExecutionContract:
    """What a flow runs under: its type's ``version``, the ``phases`` in order, the ``input_phases``, each phase's
    ``policies`` (a phase without one runs under its version's declared policy) and whether the CrewAI bridge runs
    its phases (``bridged``)."""

    version: int = 1
    phases: tuple[str, ...] = ()
    input_phases: tuple[str, ...] = ()
    policies: Mapping[str, RecordedPolicy] = field(default_factory=dict)
    bridged: bool = False

    def policy_for(self, phase: str, declared: PhasePolicy) -> PhasePolicy:
        recorded = self.policies.get(phase)
        if recorded is None or recorded == RecordedPolicy.of(declared):
            return declared
        return recorded.applied(declared)

    def to_data(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "phases": list(self.phases),
            "input_phases": list(self.input_phases),
            "policies": {name: policy.to_data() for name, policy in self.policies.items()},
            "bridged": self.bridged,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> ExecutionContract:
        if not data:
            return cls()
        return cls(
            version=int(data["version"]),
            phases=tuple(data.get("phases") or ()),
            input_phases=tuple(data.get("input_phases") or ()),
            policies={name: RecordedPolicy.from_data(p) for name, p in (data.get("policies") or {}).items()},
            bridged=bool(data.get("bridged", False)),
        )


@dataclass(frozen=True)
class PhaseMapping:
    """How a flow type's version takes over flows of an earlier one: the earlier version's phases it ``drops``.

    Every other phase of the earlier version is kept by its name (with its state and result), and every phase of
    the new version the earlier one lacks is added as pending. A phase may be dropped only if it has not run
    (pending or skipped), and only if the mapping declares it."""

    dropped: frozenset[str] = frozenset()


@dataclass(frozen=True)
class MigrationPlan:
    """What migrating one flow changes: its phases in their new order, which were kept, added and dropped."""

    from_version: int
    to_version: int
    phases: tuple[str, ...]
    kept: tuple[str, ...]
    added: tuple[str, ...]
    dropped: tuple[str, ...]

    @classmethod
    def from_data(cls, data: Mapping[str, Any], phases: Sequence[str]) -> MigrationPlan:
        """The plan a migration event recorded (``data["migration"]``), the flow's phases after it ``phases``."""
        return cls(
            int(data["from_version"]),
            int(data["to_version"]),
            tuple(phases),
            tuple(data["kept"]),
            tuple(data["added"]),
            tuple(data["dropped"]),
        )

    def to_data(self) -> dict[str, Any]:
        return {
            "from_version": self.from_version,
            "to_version": self.to_version,
            "kept": list(self.kept),
            "added": list(self.added),
            "dropped": list(self.dropped),
        }


def plan_migration(
    current: ExecutionContract,
    states: Mapping[str, str],
    target: ExecutionContract,
    mapping: PhaseMapping | None,
    *,
    waiting_for: str | None = None,
) -> MigrationPlan | str:
    """The plan of moving a flow whose phases are in ``states`` (name -> state, in order) from ``current`` to
    ``target`` under ``mapping``, or why it cannot be moved (a sentence naming the phase or the versions).

    ``waiting_for``: the phase the flow waits on for input, which must stay an input phase."""
    if target.version == current.version:
        return f"the flow already runs under version {current.version}"
    if mapping is None:
        return f"version {target.version} declares no migration from version {current.version}"
    source: Sequence[str] = list(states)
    gone = [name for name in source if name not in target.phases]
    undeclared = [name for name in gone if name not in mapping.dropped]
    if undeclared:
        return f"version {target.version} has no phase {_listed(undeclared)} and its mapping does not drop it"
    ran = [name for name in gone if states[name] not in ("pending", "skipped")]
    if ran:
        name = ran[0]
        return (
            f"phase '{name}' is {states[name]} and version {target.version} drops it:"
            " only a phase not yet run may be dropped"
        )
    if waiting_for is not None and waiting_for not in target.input_phases:
        return (
            f"the flow waits for input to phase '{waiting_for}', which version {target.version} does not take input for"
        )
    kept = tuple(name for name in target.phases if name in states)
    added = tuple(name for name in target.phases if name not in states)
    return MigrationPlan(current.version, target.version, target.phases, kept, added, tuple(gone))


def _listed(names: Sequence[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)
