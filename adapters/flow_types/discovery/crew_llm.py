"""The crew's LLM: crewai's synchronous LLM call, run on the phase's own event loop so that cancelling the phase
cancels the request (why: adapters/flow_types/discovery/crew.py), and its HTTP failures as MFO's exceptions."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future
from typing import Any

from domain.echo import excerpt


class LLMUnavailable(Exception):
    """The endpoint did not answer: a timeout, a lost connection, HTTP 408, 429 or 5xx. Retried."""


class LLMRequestRefused(Exception):
    """The endpoint refused the request (HTTP 4xx other than 408 and 429: a bad request, key, permission or model).
    Never retried: the same request would be refused again."""


class LoopCalls:
    """Runs coroutines on one event loop for code in other threads, until :meth:`close` cancels those still
    running and refuses new ones (crewai's LLM step runs in a worker thread; its request runs on the phase's loop)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._running: set[Future[Any]] = set()
        self._closed = False

    def run(self, call: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        """``call()``'s result, from the loop; blocks this thread meanwhile (so never call it on the loop)."""
        if _running_loop() is self._loop:
            raise RuntimeError("a call waiting for its own event loop would never end: await it instead")
        with self._lock:
            if self._closed:
                raise RuntimeError("the phase this LLM call belongs to has ended")
            future = asyncio.run_coroutine_threadsafe(call(), self._loop)
            self._running.add(future)
        try:
            return future.result()
        finally:
            with self._lock:
                self._running.discard(future)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            running, self._running = self._running, set()
        for future in running:
            future.cancel()  # cancels the coroutine's task on the loop: httpx drops its connection


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


@functools.cache
def loop_bound_llm_class() -> type:
    """crewai's ``BaseLLM`` around a ``crewai.LLM``, built once crewai is loaded (see the module's docstring)."""
    from crewai.llms.base_llm import BaseLLM, call_stop_override
    from pydantic import Field

    class LoopBoundLLM(BaseLLM):  # type: ignore[misc, valid-type]
        """``llm``, whose synchronous ``call`` runs its native ``acall`` on the phase's event loop (``calls``), and
        whose HTTP failures are MFO's :class:`LLMUnavailable` or :class:`LLMRequestRefused`."""

        llm: BaseLLM
        calls: LoopCalls = Field(exclude=True)

        def call(self, messages: Any, *args: Any, **kwargs: Any) -> Any:
            return self.calls.run(lambda: self.acall(messages, *args, **kwargs))

        async def acall(self, messages: Any, *args: Any, **kwargs: Any) -> Any:
            with call_stop_override(self.llm, self.stop_sequences):
                try:
                    return await self.llm.acall(messages, *args, **kwargs)
                except Exception as error:
                    failure = http_failure(error)
                    if failure is None:
                        raise
            raise failure  # outside the except block: no chain back to the SDK's error (the module's docstring)

        def supports_stop_words(self) -> bool:
            return bool(self.llm.supports_stop_words())

        def supports_function_calling(self) -> bool:
            return bool(self.llm.supports_function_calling())

        def get_context_window_size(self) -> int:
            return int(self.llm.get_context_window_size())

    return LoopBoundLLM


def http_failure(error: BaseException) -> Exception | None:
    """MFO's exception for an LLM call that failed over HTTP (found anywhere in ``error``'s chain), else None."""
    import openai

    for cause in _chain(error):
        if isinstance(cause, openai.APIStatusError):
            status = cause.status_code
            said = excerpt(cause.message, 200)
            if 400 <= status < 500 and status not in (408, 429):
                return LLMRequestRefused(f"the LLM endpoint refused the request: HTTP {status}: {said}")
            retry_after = cause.response.headers.get("retry-after")
            wait = f" (Retry-After: {excerpt(retry_after, 20)})" if retry_after else ""
            return LLMUnavailable(f"the LLM endpoint answered HTTP {status}{wait}")
        if isinstance(cause, openai.APITimeoutError):
            return LLMUnavailable("the LLM endpoint did not answer in time")
        if isinstance(cause, openai.APIConnectionError):
            return LLMUnavailable(f"the LLM endpoint could not be reached: {excerpt(cause, 200)}")
    return None


def _chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and its causes, each once (crewai raises ``error from error``)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__
