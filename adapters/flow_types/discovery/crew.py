"""Discovery's field mapping proposed by a CrewAI crew, on an OpenAI-compatible endpoint.

:func:`with_crew` swaps the deterministic ``field_mapping`` handler for :func:`crew_field_mapping`: a ``crewai.Crew``
of one ``Agent`` and one ``Task`` asks the model for a JSON object mapping each imported column to one of
``TARGET_FIELDS`` or null. The answer is validated strictly (:func:`proposal_from`) and becomes the same proposal
the deterministic handler makes, waiting for a client's approval.

How the installed crewai (1.15) makes its LLM call, and why :class:`LoopCalls` exists:

- ``crewai.LLM(model="openai/<model>", base_url=..., custom_openai=True)`` builds crewai's native OpenAI provider
  (the ``openai`` SDK over httpx; LiteLLM is not involved). ``custom_openai`` keeps every request on
  ``/chat/completions`` of that base URL (no fallback to OpenAI's Responses API, and the token count is estimated
  locally rather than asked of ``api.openai.com``).
- ``Crew.kickoff_async`` runs the whole synchronous ``kickoff`` in a thread; ``Crew.akickoff`` is native async
  down to the agent's executor. That executor is itself a CrewAI Flow, though, whose LLM step
  (``call_llm_and_parse``) is a synchronous method the Flow runs with ``asyncio.to_thread``, and it calls the
  synchronous ``LLM.call`` (crewai has an ``aget_llm_response`` that awaits ``LLM.acall``, but nothing calls it).
  Cancelling the asyncio task therefore stops nobody: the thread keeps the HTTP request open until the client's
  own timeout (tests/integration/test_discovery_crew.py shows it).
- So the agent gets a :class:`crewai.llms.base_llm.BaseLLM` of MFO's (crewai's documented custom-LLM extension
  point) wrapping that ``crewai.LLM``: its synchronous ``call``, made in crewai's worker thread, runs the wrapped
  LLM's native ``acall`` (the ``openai`` SDK's async client) on the phase's own event loop and waits for it. When
  the phase's task is cancelled (a timeout, a cancelled flow), :meth:`LoopCalls.close` cancels that coroutine: httpx
  drops the connection at once, the waiting thread returns, and no further call starts. Should crewai come to await
  ``acall`` itself, that is the same coroutine, cancelled with the task.

Retries belong to the phase's policy alone: the ``openai`` SDK's are off (``max_retries=0``), the agent's too
(``max_retry_limit=0``), and an HTTP failure reaches crewai as MFO's own exception (:class:`LLMUnavailable`,
:class:`LLMRequestRefused`), not chained to the SDK's, so crewai's built-in rate-limit retry (which recognises a
429 anywhere in the exception chain and sleeps in the worker thread) does not retry it again inside the attempt.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from adapters.crewai_bridge.runtime import console_suppressed, load_crewai
from adapters.flow_types.discovery.crew_llm import LLMRequestRefused, LLMUnavailable, LoopCalls, loop_bound_llm_class
from adapters.flow_types.discovery.phases import TARGET_FIELDS, results_of
from domain.echo import excerpt
from domain.flow import Flow
from domain.flow_types import FlowTypeDefinition, PhaseContext, RunPhase
from domain.phase_policy import Backoff, PhasePolicy
from domain.phases import PhaseOutcome


@dataclass(frozen=True)
class LLMEndpoint:
    """An OpenAI-compatible chat completions endpoint: ``base_url`` as the ``openai`` SDK takes it (ending in
    ``/v1`` for most servers), the model it serves, the API key, and how long one request may take."""

    base_url: str
    model: str
    api_key: str = field(repr=False)
    request_timeout_seconds: float = 60.0


class MalformedCrewAnswer(Exception):
    """The crew's answer is not the JSON object asked for. Retried: another attempt may answer well."""


def with_crew(definition: FlowTypeDefinition, endpoint: LLMEndpoint | None) -> FlowTypeDefinition:
    """``definition`` whose field mapping asks a crew on ``endpoint``, under :func:`crew_policy`; without an
    endpoint, ``definition`` itself."""
    if endpoint is None:
        return definition
    if "field_mapping" not in definition.phases:
        raise ValueError(f"flow type '{definition.name}' has no field_mapping phase for a crew to run")
    return replace(
        definition,
        run={**definition.run, "field_mapping": crew_field_mapping(endpoint)},
        policies={**definition.policies, "field_mapping": crew_policy(endpoint)},
    )


def crew_policy(endpoint: LLMEndpoint) -> PhasePolicy:
    """Three attempts, a few seconds apart; an attempt may make two requests (the answer, and one more when the
    model asks for a tool it does not have), so it gets twice a request's time, at least 120 s."""
    return PhasePolicy(
        timeout_seconds=max(120.0, 2 * endpoint.request_timeout_seconds),
        max_attempts=3,
        backoff=Backoff(initial_seconds=2.0, multiplier=3.0, maximum_seconds=30.0),
        never_retry=(LLMRequestRefused,),
    )


def crew_field_mapping(endpoint: LLMEndpoint) -> RunPhase:
    """The ``field_mapping`` handler that asks a crew on ``endpoint`` (crewai is imported here, offline)."""
    load_crewai()
    from crewai import LLM, Agent, Crew, Task

    def crew_for(columns: list[str], calls: LoopCalls) -> Any:
        llm = LLM(
            model=f"openai/{endpoint.model}",
            base_url=endpoint.base_url,
            api_key=endpoint.api_key,
            custom_openai=True,
            timeout=endpoint.request_timeout_seconds,
            max_retries=0,
            # each run builds its own client and crewai offers no way to close it: no idle connection outlives it
            default_headers={"Connection": "close"},
        )
        agent = Agent(
            role="Asset inventory analyst",
            goal="Map the columns of an imported IT asset inventory onto a fixed set of target fields",
            backstory="You read server and application inventories exported from spreadsheets and CMDBs, and "
            "answer with JSON only.",
            llm=loop_bound_llm_class()(model=endpoint.model, llm=llm, calls=calls),
            allow_delegation=False,
            max_iter=1,
            max_retry_limit=0,
            verbose=False,
        )
        task = Task(description=mapping_request(columns), expected_output=EXPECTED_OUTPUT, agent=agent)
        return Crew(agents=[agent], tasks=[task], verbose=False, tracing=False)

    async def field_mapping_by_crew(flow: Flow, context: PhaseContext) -> PhaseOutcome:
        columns = [str(column) for column in results_of(flow, "data_import")["columns"]]
        calls = LoopCalls(asyncio.get_running_loop())
        try:
            with console_suppressed():
                output = await crew_for(columns, calls).akickoff()
        finally:
            calls.close()  # cancelled or not: nothing of this run goes on after it
        proposed = proposal_from(str(output.raw), columns)
        mapped = {column: target for column, target in proposed.items() if target is not None}
        return PhaseOutcome.needs_input(
            {
                "proposed_mappings": mapped,
                "unmapped_columns": [column for column in columns if column not in mapped],
                "rejections": 0,
                "proposed_by": "crew",
            }
        )

    return field_mapping_by_crew


EXPECTED_OUTPUT = (
    "One JSON object and nothing else: each key an imported column, each value one of the target fields or null."
)


def mapping_request(columns: list[str]) -> str:
    fields = "\n".join(f"- {target}: for columns such as {', '.join(hints)}" for target, hints in TARGET_FIELDS.items())
    return (
        "An asset inventory was imported with these columns (a JSON list):\n"
        f"{json.dumps(columns)}\n\n"
        f"Map each column to the target field that holds the same information. The target fields:\n{fields}\n\n"
        "Use each column exactly as written, only the target field names listed above, and null for a column "
        "that matches none of them. Answer with the JSON object only, no prose and no code fence."
    )


_FENCED = re.compile(r"\A```(?:json)?\s*\n(?P<body>.*)\n\s*```\Z", re.DOTALL | re.IGNORECASE)


def proposal_from(answer: str, columns: list[str]) -> dict[str, str | None]:
    """The crew's answer as ``{column: target field or None}``, or :class:`MalformedCrewAnswer` saying what is wrong.

    The answer must be one JSON object (a code fence around it is tolerated), without duplicate keys, whose keys
    are imported columns and whose values are target fields or null. A column it leaves out is unmapped.
    """
    text = answer.strip()
    fenced = _FENCED.match(text)
    if fenced:
        text = fenced.group("body").strip()
    try:
        parsed = json.loads(text, object_pairs_hook=_refusing_duplicates)
    except ValueError as error:
        raise MalformedCrewAnswer(f"the crew's answer is not JSON ({error}): {excerpt(answer)!r}") from None
    if not isinstance(parsed, dict):
        raise MalformedCrewAnswer(f"the crew's answer is JSON but not an object: {excerpt(answer)!r}")
    unknown_columns = [key for key in parsed if key not in columns]
    if unknown_columns:
        raise MalformedCrewAnswer(f"the crew mapped columns that were not imported: {excerpt(unknown_columns)}")
    unknown_targets = {key: value for key, value in parsed.items() if value is not None and not _is_target(value)}
    if unknown_targets:
        raise MalformedCrewAnswer(
            f"the crew proposed values that are no target field: {excerpt(unknown_targets)}; "
            f"known: {', '.join(TARGET_FIELDS)} (or null)"
        )
    return {column: parsed.get(column) for column in columns}


def _is_target(value: object) -> bool:
    return isinstance(value, str) and value in TARGET_FIELDS


def _refusing_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ValueError(f"duplicate keys {excerpt(duplicates)}")
    return dict(pairs)


__all__ = [
    "LLMEndpoint",
    "LLMRequestRefused",
    "LLMUnavailable",
    "MalformedCrewAnswer",
    "crew_field_mapping",
    "crew_policy",
    "proposal_from",
    "with_crew",
]
