"""Every ``MFO_*`` variable: its type, its bounds, its default (the settings dataclass's) and what it means.

One model per settings group (``entrypoints/settings.py``), in ``storage.py``, ``access.py`` and ``work.py``; each
field is a variable (``db_pool_size`` is ``MFO_DB_POOL_SIZE``) and its ``description`` is its row in the README
(``make settings-doc`` writes the tables). Rules between variables of one group are field validators on the later
one, checked only when the earlier ones are valid; rules across groups are :class:`RulesAcrossGroups`. So every
problem shows in one message (ADR 0023).
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import Field, ValidationInfo, field_validator

from entrypoints.environment.access import ApiVariables, AuthVariables, LegacyVariables
from entrypoints.environment.storage import DatabaseVariables, IdempotencyVariables
from entrypoints.environment.work import CrewAIVariables, LLMVariables, ObservabilityVariables, WorkerVariables
from entrypoints.settings import DatabaseSettings, IdempotencySettings, Settings
from entrypoints.settings_reading import (
    InvalidSettings,
    Variables,
    gather,
    problem,
    read,
    rule_problems,
    validated_before,
)

T = TypeVar("T")

GROUPS: tuple[type[Variables], ...] = (
    DatabaseVariables,
    ApiVariables,
    CrewAIVariables,
    LLMVariables,
    LegacyVariables,
    AuthVariables,
    IdempotencyVariables,
    WorkerVariables,
    ObservabilityVariables,
)
"""Every group of variables, in the order the README's tables list them."""


def settings_from_env(kind: type[T]) -> T:
    """One settings dataclass read from its variables (:class:`InvalidSettings` names each bad one)."""
    (group,) = [group for group in GROUPS if group.builds is kind]
    return read(group).settings()  # type: ignore[no-any-return]


class RulesAcrossGroups(Variables):
    """Rules between variables of different groups. Read apart from the groups, so a rule is checked whenever its
    own variables are valid, whatever else is wrong; each variable's own problems are its group's to report."""

    db_statement_timeout_ms: int = Field(DatabaseSettings.statement_timeout_ms, ge=0)
    idempotency_wait_ms: int = Field(IdempotencySettings.wait_ms, ge=0, validate_default=True)

    @field_validator("idempotency_wait_ms", mode="after")
    @classmethod
    def _wait_within_the_statement_timeout(cls, wait: int, info: ValidationInfo) -> int:
        if validated_before(info, "db_statement_timeout_ms") and wait >= info.data["db_statement_timeout_ms"]:
            raise problem(
                f"MFO_IDEMPOTENCY_WAIT_MS ({wait}) must be shorter than MFO_DB_STATEMENT_TIMEOUT_MS "
                f"({info.data['db_statement_timeout_ms']}): a retry waiting for the first request would otherwise "
                "end as a timeout (503) instead of 409 idempotency-key-in-progress"
            )
        return wait


def all_settings_from_env() -> Settings:
    """Every group read at once; :class:`InvalidSettings` lists every problem of every group and every rule."""
    values, problems = gather(*GROUPS)
    problems += rule_problems(RulesAcrossGroups)
    if problems:
        raise InvalidSettings(problems)
    built = {group: value.settings() for group, value in values.items()}
    return Settings(
        database=built[DatabaseVariables],
        api=built[ApiVariables],
        legacy=built[LegacyVariables],
        crewai=built[CrewAIVariables],
        auth=built[AuthVariables],
        observability=built[ObservabilityVariables],
        idempotency=built[IdempotencyVariables],
        worker=built[WorkerVariables],
        llm=built[LLMVariables],
    )
