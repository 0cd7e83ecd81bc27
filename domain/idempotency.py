"""Idempotency keys: a retried request gets the first answer back instead of a second change.

The HTTP layer turns an ``Idempotency-Key`` header into an :class:`IdempotentRequest`; the orchestrator claims the
key in the same unit of work as the change, and stores the answer (rendered by ``render``) before it commits. A key
that was already answered raises :class:`IdempotentReplay`, which carries the stored answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from domain.echo import excerpt
from domain.errors import DomainError
from domain.flow import Flow

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class StoredResponse:
    """The answer given to the first request with a key, replayed to every retry."""

    status_code: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str = "application/json"


@dataclass(frozen=True)
class IdempotentRequest:
    """A state-changing request made with an idempotency key.

    ``fingerprint`` identifies what was asked (operation, target and body): the same key with another fingerprint
    is refused. ``render`` builds the answer from the changed flow, inside the transaction.
    """

    key: str
    fingerprint: str
    ttl: timedelta
    render: Callable[[Flow], StoredResponse] = field(compare=False)


class IdempotentReplay(Exception):
    """The key was answered before: nothing was changed, ``response`` is the first answer."""

    def __init__(self, key: str, response: StoredResponse) -> None:
        self.key = key
        self.response = response
        super().__init__(f"idempotency key {excerpt(key)!r} was answered before")


class IdempotencyKeyReused(DomainError):
    """The key was used before for another request (another operation, flow or body)."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            f"the Idempotency-Key {excerpt(key)!r} was already used for a different request "
            "(another operation, flow or body); use a new key for a new request"
        )


class IdempotencyKeyInProgress(DomainError):
    """Another request with the same key is still being processed."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            f"a request with the Idempotency-Key {excerpt(key)!r} is still in progress; retry after it has finished"
        )
