from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.conflict_problem_out import ConflictProblemOut
from ...models.flow_out import FlowOut
from ...models.forbidden_problem_out import ForbiddenProblemOut
from ...models.migrate_flow_request import MigrateFlowRequest
from ...models.problem_out import ProblemOut
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    flow_id: str,
    *,
    body: MigrateFlowRequest,
    idempotency_key: None | str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key



    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/flows/{flow_id}/migrate".format(flow_id=quote(str(flow_id), safe=""),),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ConflictProblemOut | FlowOut | ForbiddenProblemOut | ProblemOut | None:
    if response.status_code == 200:
        response_200 = FlowOut.from_dict(response.json())



        return response_200

    if response.status_code == 400:
        response_400 = ProblemOut.from_dict(response.json())



        return response_400

    if response.status_code == 401:
        response_401 = ProblemOut.from_dict(response.json())



        return response_401

    if response.status_code == 403:
        response_403 = ForbiddenProblemOut.from_dict(response.json())



        return response_403

    if response.status_code == 404:
        response_404 = ProblemOut.from_dict(response.json())



        return response_404

    if response.status_code == 409:
        response_409 = ConflictProblemOut.from_dict(response.json())



        return response_409

    if response.status_code == 413:
        response_413 = ProblemOut.from_dict(response.json())



        return response_413

    if response.status_code == 415:
        response_415 = ProblemOut.from_dict(response.json())



        return response_415

    if response.status_code == 422:
        response_422 = ProblemOut.from_dict(response.json())



        return response_422

    if response.status_code == 431:
        response_431 = ProblemOut.from_dict(response.json())



        return response_431

    if response.status_code == 503:
        response_503 = ProblemOut.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ConflictProblemOut | FlowOut | ForbiddenProblemOut | ProblemOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    flow_id: str,
    *,
    client: AuthenticatedClient,
    body: MigrateFlowRequest,
    idempotency_key: None | str | Unset = UNSET,

) -> Response[ConflictProblemOut | FlowOut | ForbiddenProblemOut | ProblemOut]:
    """ Move a flow to another version of its type

     Under the mapping the target version declares: phases of the same name are kept (with their state
    and result), the version's new phases are added as pending, and a phase the mapping drops goes only
    if it has not run. One transaction and one event. A migration the mapping cannot express (a
    completed phase dropped, a phase in progress, no mapping from the flow's version) is a 409
    `migration-refused` that says why; nothing changes.

    Args:
        flow_id (str):
        idempotency_key (None | str | Unset): Makes the request safe to retry: a retry with the
            same key and body gets the first answer back and changes nothing; the same key with
            another request is refused (422).
        body (MigrateFlowRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConflictProblemOut | FlowOut | ForbiddenProblemOut | ProblemOut]
     """


    kwargs = _get_kwargs(
        flow_id=flow_id,
body=body,
idempotency_key=idempotency_key,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    flow_id: str,
    *,
    client: AuthenticatedClient,
    body: MigrateFlowRequest,
    idempotency_key: None | str | Unset = UNSET,

) -> ConflictProblemOut | FlowOut | ForbiddenProblemOut | ProblemOut | None:
    """ Move a flow to another version of its type

     Under the mapping the target version declares: phases of the same name are kept (with their state
    and result), the version's new phases are added as pending, and a phase the mapping drops goes only
    if it has not run. One transaction and one event. A migration the mapping cannot express (a
    completed phase dropped, a phase in progress, no mapping from the flow's version) is a 409
    `migration-refused` that says why; nothing changes.

    Args:
        flow_id (str):
        idempotency_key (None | str | Unset): Makes the request safe to retry: a retry with the
            same key and body gets the first answer back and changes nothing; the same key with
            another request is refused (422).
        body (MigrateFlowRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConflictProblemOut | FlowOut | ForbiddenProblemOut | ProblemOut
     """


    return sync_detailed(
        flow_id=flow_id,
client=client,
body=body,
idempotency_key=idempotency_key,

    ).parsed

async def asyncio_detailed(
    flow_id: str,
    *,
    client: AuthenticatedClient,
    body: MigrateFlowRequest,
    idempotency_key: None | str | Unset = UNSET,

) -> Response[ConflictProblemOut | FlowOut | ForbiddenProblemOut | ProblemOut]:
    """ Move a flow to another version of its type

     Under the mapping the target version declares: phases of the same name are kept (with their state
    and result), the version's new phases are added as pending, and a phase the mapping drops goes only
    if it has not run. One transaction and one event. A migration the mapping cannot express (a
    completed phase dropped, a phase in progress, no mapping from the flow's version) is a 409
    `migration-refused` that says why; nothing changes.

    Args:
        flow_id (str):
        idempotency_key (None | str | Unset): Makes the request safe to retry: a retry with the
            same key and body gets the first answer back and changes nothing; the same key with
            another request is refused (422).
        body (MigrateFlowRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConflictProblemOut | FlowOut | ForbiddenProblemOut | ProblemOut]
     """


    kwargs = _get_kwargs(
        flow_id=flow_id,
body=body,
idempotency_key=idempotency_key,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    flow_id: str,
    *,
    client: AuthenticatedClient,
    body: MigrateFlowRequest,
    idempotency_key: None | str | Unset = UNSET,

) -> ConflictProblemOut | FlowOut | ForbiddenProblemOut | ProblemOut | None:
    """ Move a flow to another version of its type

     Under the mapping the target version declares: phases of the same name are kept (with their state
    and result), the version's new phases are added as pending, and a phase the mapping drops goes only
    if it has not run. One transaction and one event. A migration the mapping cannot express (a
    completed phase dropped, a phase in progress, no mapping from the flow's version) is a 409
    `migration-refused` that says why; nothing changes.

    Args:
        flow_id (str):
        idempotency_key (None | str | Unset): Makes the request safe to retry: a retry with the
            same key and body gets the first answer back and changes nothing; the same key with
            another request is refused (422).
        body (MigrateFlowRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConflictProblemOut | FlowOut | ForbiddenProblemOut | ProblemOut
     """


    return (await asyncio_detailed(
        flow_id=flow_id,
client=client,
body=body,
idempotency_key=idempotency_key,

    )).parsed
