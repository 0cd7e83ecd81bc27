from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.conflict_problem_out import ConflictProblemOut
from ...models.forbidden_problem_out import ForbiddenProblemOut
from ...models.legacy_flow_out import LegacyFlowOut
from ...models.legacy_initialize_request import LegacyInitializeRequest
from ...models.problem_out import ProblemOut
from typing import cast



def _get_kwargs(
    *,
    body: LegacyInitializeRequest,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/unified-discovery/flows/initialize",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ConflictProblemOut | ForbiddenProblemOut | LegacyFlowOut | ProblemOut | None:
    if response.status_code == 201:
        response_201 = LegacyFlowOut.from_dict(response.json())



        return response_201

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ConflictProblemOut | ForbiddenProblemOut | LegacyFlowOut | ProblemOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: LegacyInitializeRequest,

) -> Response[ConflictProblemOut | ForbiddenProblemOut | LegacyFlowOut | ProblemOut]:
    """ Create and start a discovery flow (deprecated: use /api/v1/flows)

    Args:
        body (LegacyInitializeRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConflictProblemOut | ForbiddenProblemOut | LegacyFlowOut | ProblemOut]
     """


    kwargs = _get_kwargs(
        body=body,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    body: LegacyInitializeRequest,

) -> ConflictProblemOut | ForbiddenProblemOut | LegacyFlowOut | ProblemOut | None:
    """ Create and start a discovery flow (deprecated: use /api/v1/flows)

    Args:
        body (LegacyInitializeRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConflictProblemOut | ForbiddenProblemOut | LegacyFlowOut | ProblemOut
     """


    return sync_detailed(
        client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: LegacyInitializeRequest,

) -> Response[ConflictProblemOut | ForbiddenProblemOut | LegacyFlowOut | ProblemOut]:
    """ Create and start a discovery flow (deprecated: use /api/v1/flows)

    Args:
        body (LegacyInitializeRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConflictProblemOut | ForbiddenProblemOut | LegacyFlowOut | ProblemOut]
     """


    kwargs = _get_kwargs(
        body=body,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    body: LegacyInitializeRequest,

) -> ConflictProblemOut | ForbiddenProblemOut | LegacyFlowOut | ProblemOut | None:
    """ Create and start a discovery flow (deprecated: use /api/v1/flows)

    Args:
        body (LegacyInitializeRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConflictProblemOut | ForbiddenProblemOut | LegacyFlowOut | ProblemOut
     """


    return (await asyncio_detailed(
        client=client,
body=body,

    )).parsed
