from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.flow_status_out import FlowStatusOut
from ...models.forbidden_problem_out import ForbiddenProblemOut
from ...models.problem_out import ProblemOut
from typing import cast



def _get_kwargs(
    flow_id: str,

) -> dict[str, Any]:
    

    

    

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/flows/{flow_id}/status".format(flow_id=quote(str(flow_id), safe=""),),
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | FlowStatusOut | ForbiddenProblemOut | ProblemOut | None:
    if response.status_code == 200:
        response_200 = FlowStatusOut.from_dict(response.json())



        return response_200

    if response.status_code == 304:
        response_304 = cast(Any, None)
        return response_304

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | FlowStatusOut | ForbiddenProblemOut | ProblemOut]:
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

) -> Response[Any | FlowStatusOut | ForbiddenProblemOut | ProblemOut]:
    """ Master, child and phase states side by side

    Args:
        flow_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | FlowStatusOut | ForbiddenProblemOut | ProblemOut]
     """


    kwargs = _get_kwargs(
        flow_id=flow_id,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    flow_id: str,
    *,
    client: AuthenticatedClient,

) -> Any | FlowStatusOut | ForbiddenProblemOut | ProblemOut | None:
    """ Master, child and phase states side by side

    Args:
        flow_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | FlowStatusOut | ForbiddenProblemOut | ProblemOut
     """


    return sync_detailed(
        flow_id=flow_id,
client=client,

    ).parsed

async def asyncio_detailed(
    flow_id: str,
    *,
    client: AuthenticatedClient,

) -> Response[Any | FlowStatusOut | ForbiddenProblemOut | ProblemOut]:
    """ Master, child and phase states side by side

    Args:
        flow_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | FlowStatusOut | ForbiddenProblemOut | ProblemOut]
     """


    kwargs = _get_kwargs(
        flow_id=flow_id,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    flow_id: str,
    *,
    client: AuthenticatedClient,

) -> Any | FlowStatusOut | ForbiddenProblemOut | ProblemOut | None:
    """ Master, child and phase states side by side

    Args:
        flow_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | FlowStatusOut | ForbiddenProblemOut | ProblemOut
     """


    return (await asyncio_detailed(
        flow_id=flow_id,
client=client,

    )).parsed
