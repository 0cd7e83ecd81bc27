"""eventually() and its sync twin: the first truthy value of a sync or async condition, or an AssertionError naming
what was awaited and the last value or exception."""

from __future__ import annotations

import re

import pytest

from tests.support import Hopeless, eventually, eventually_sync


async def test_the_first_truthy_value_of_a_sync_or_async_condition_is_returned() -> None:
    calls: list[int] = []

    def sync() -> list[int] | None:
        calls.append(1)
        return calls if len(calls) >= 3 else None

    async def asynchronous() -> str:
        return "ready"

    assert await eventually(sync, within=2, what="three calls", every=0.001) == [1, 1, 1]
    assert await eventually(asynchronous, within=2, what="ready") == "ready"


async def test_giving_up_names_what_and_the_last_exception() -> None:
    def failing() -> bool:
        raise ValueError("not yet")

    with pytest.raises(AssertionError, match=re.escape("the answer: not within 0.05 s; last ValueError('not yet')")):
        await eventually(failing, within=0.05, what="the answer", every=0.01)
    with pytest.raises(AssertionError, match=re.escape("the flag: not within 0.05 s; last 0\nsummary")):
        await eventually(lambda: 0, within=0.05, what="the flag", every=0.01, detail=lambda: "summary")


def test_the_sync_twin_polls_the_same_way_and_a_hopeless_condition_fails_at_once() -> None:
    values = iter([None, "", "done"])
    assert eventually_sync(lambda: next(values), within=2, what="done", every=0.001) == "done"

    def died() -> bool:
        raise Hopeless("the process exited with 1")

    with pytest.raises(AssertionError, match="the process exited with 1"):
        eventually_sync(died, within=60, what="the process starting")
