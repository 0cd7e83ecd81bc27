from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.event_page_out import EventPageOut
from ...models.forbidden_problem_out import ForbiddenProblemOut
from ...models.problem_out import ProblemOut
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    flow_id: str,
    *,
    limit: None | str | Unset = UNSET,
    cursor: None | str | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    json_limit: None | str | Unset
    if isinstance(limit, Unset):
        json_limit = UNSET
    else:
        json_limit = limit
    params["limit"] = json_limit

    json_cursor: None | str | Unset
    if isinstance(cursor, Unset):
        json_cursor = UNSET
    else:
        json_cursor = cursor
    params["cursor"] = json_cursor


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/flows/{flow_id}/events".format(flow_id=quote(str(flow_id), safe=""),),
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> EventPageOut | ForbiddenProblemOut | ProblemOut | None:
    if response.status_code == 200:
        response_200 = EventPageOut.from_dict(response.json())



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[EventPageOut | ForbiddenProblemOut | ProblemOut]:
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
    limit: None | str | Unset = UNSET,
    cursor: None | str | Unset = UNSET,

) -> Response[EventPageOut | ForbiddenProblemOut | ProblemOut]:
    """ The flow's events, oldest first

    Args:
        flow_id (str):
        limit (None | str | Unset): Page size: a whole number from 1 to the configured maximum.
        cursor (None | str | Unset): The version to continue after.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[EventPageOut | ForbiddenProblemOut | ProblemOut]
     """


    kwargs = _get_kwargs(
        flow_id=flow_id,
limit=limit,
cursor=cursor,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    flow_id: str,
    *,
    client: AuthenticatedClient,
    limit: None | str | Unset = UNSET,
    cursor: None | str | Unset = UNSET,

) -> EventPageOut | ForbiddenProblemOut | ProblemOut | None:
    """ The flow's events, oldest first

    Args:
        flow_id (str):
        limit (None | str | Unset): Page size: a whole number from 1 to the configured maximum.
        cursor (None | str | Unset): The version to continue after.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        EventPageOut | ForbiddenProblemOut | ProblemOut
     """


    return sync_detailed(
        flow_id=flow_id,
client=client,
limit=limit,
cursor=cursor,

    ).parsed

async def asyncio_detailed(
    flow_id: str,
    *,
    client: AuthenticatedClient,
    limit: None | str | Unset = UNSET,
    cursor: None | str | Unset = UNSET,

) -> Response[EventPageOut | ForbiddenProblemOut | ProblemOut]:
    """ The flow's events, oldest first

    Args:
        flow_id (str):
        limit (None | str | Unset): Page size: a whole number from 1 to the configured maximum.
        cursor (None | str | Unset): The version to continue after.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[EventPageOut | ForbiddenProblemOut | ProblemOut]
     """


    kwargs = _get_kwargs(
        flow_id=flow_id,
limit=limit,
cursor=cursor,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    flow_id: str,
    *,
    client: AuthenticatedClient,
    limit: None | str | Unset = UNSET,
    cursor: None | str | Unset = UNSET,

) -> EventPageOut | ForbiddenProblemOut | ProblemOut | None:
    """ The flow's events, oldest first

    Args:
        flow_id (str):
        limit (None | str | Unset): Page size: a whole number from 1 to the configured maximum.
        cursor (None | str | Unset): The version to continue after.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        EventPageOut | ForbiddenProblemOut | ProblemOut
     """


    return (await asyncio_detailed(
        flow_id=flow_id,
client=client,
limit=limit,
cursor=cursor,

    )).parsed
