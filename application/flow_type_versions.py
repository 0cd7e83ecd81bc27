"""Which versions of which flow types the stored flows use: what start-up checks against the registry, and what
``GET /api/v1/flow-types`` shows beside each version."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from application.flow_type_registry import FlowTypeRegistry
from domain.errors import FlowTypeRegistrationError
from domain.flow_types import FlowTypeDefinition
from domain.lifecycle import FlowStatus
from domain.ports import VersionUsage


@dataclass(frozen=True)
class VersionInUse:
    """One version of one flow type and how many flows use it, per status."""

    flow_type: str
    version: int
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def flows(self) -> int:
        return sum(self.statuses.values())

    def described(self) -> str:
        by_status = ", ".join(f"{n} {status}" for status, n in sorted(self.statuses.items()))
        noun = "flow" if self.flows == 1 else "flows"
        return f"{self.flows} {noun} ({by_status})"


def versions_in_use(usage: Iterable[VersionUsage]) -> dict[tuple[str, int], VersionInUse]:
    """The usage rows grouped by flow type and version; deleted flows do not use their version any more."""
    grouped: dict[tuple[str, int], VersionInUse] = {}
    for row in usage:
        if row.status == FlowStatus.DELETED or row.flows == 0:
            continue
        key = (row.flow_type, row.version)
        grouped.setdefault(key, VersionInUse(row.flow_type, row.version)).statuses[str(row.status)] = row.flows
    return grouped


def refuse_unregistered_versions(registry: FlowTypeRegistry, usage: Iterable[VersionUsage]) -> None:
    """``FlowTypeRegistrationError`` naming every flow type version that stored flows (other than deleted ones)
    still use but the registry no longer has, with how many flows use it and in which status."""
    missing = [
        f"flow type '{name}' version {version} is still used by {in_use.described()} but is not registered"
        for (name, version), in_use in sorted(versions_in_use(usage).items())
        if not registry.is_registered(name, version)
    ]
    if missing:
        raise FlowTypeRegistrationError(
            "; ".join(missing) + ": keep registering those versions until no flow uses them "
            "(POST /api/v1/admin/flows/migrate moves flows to another version)"
        )


@dataclass(frozen=True)
class RegisteredVersion:
    definition: FlowTypeDefinition
    in_use: VersionInUse


@dataclass(frozen=True)
class FlowTypeVersions:
    """A flow type's registered versions, oldest first, each with the flows that use it; the newest is the one new
    flows get."""

    newest: FlowTypeDefinition
    versions: list[RegisteredVersion]


def flow_type_versions(registry: FlowTypeRegistry, usage: Iterable[VersionUsage]) -> list[FlowTypeVersions]:
    grouped = versions_in_use(usage)
    return [
        FlowTypeVersions(
            registry.get(name),
            [
                RegisteredVersion(d, grouped.get((name, d.version), VersionInUse(name, d.version)))
                for d in registry.versions(name)
            ],
        )
        for name in registry.names()
    ]
