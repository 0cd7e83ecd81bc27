from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.flow_page_out import FlowPageOut
from ...models.forbidden_problem_out import ForbiddenProblemOut
from ...models.list_flows_status_type_0_item import ListFlowsStatusType0Item
from ...models.problem_out import ProblemOut
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    *,
    flow_type: None | str | Unset = UNSET,
    status: list[ListFlowsStatusType0Item] | None | Unset = UNSET,
    include_deleted: bool | Unset = False,
    limit: None | str | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    q: None | str | Unset = UNSET,
    created_after: None | str | Unset = UNSET,
    created_before: None | str | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    json_flow_type: None | str | Unset
    if isinstance(flow_type, Unset):
        json_flow_type = UNSET
    else:
        json_flow_type = flow_type
    params["flow_type"] = json_flow_type

    json_status: list[str] | None | Unset
    if isinstance(status, Unset):
        json_status = UNSET
    elif isinstance(status, list):
        json_status = []
        for status_type_0_item_data in status:
            status_type_0_item = status_type_0_item_data.value
            json_status.append(status_type_0_item)


    else:
        json_status = status
    params["status"] = json_status

    params["include_deleted"] = include_deleted

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

    json_q: None | str | Unset
    if isinstance(q, Unset):
        json_q = UNSET
    else:
        json_q = q
    params["q"] = json_q

    json_created_after: None | str | Unset
    if isinstance(created_after, Unset):
        json_created_after = UNSET
    else:
        json_created_after = created_after
    params["created_after"] = json_created_after

    json_created_before: None | str | Unset
    if isinstance(created_before, Unset):
        json_created_before = UNSET
    else:
        json_created_before = created_before
    params["created_before"] = json_created_before


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/flows",
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | FlowPageOut | ForbiddenProblemOut | ProblemOut | None:
    if response.status_code == 200:
        response_200 = FlowPageOut.from_dict(response.json())



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | FlowPageOut | ForbiddenProblemOut | ProblemOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    flow_type: None | str | Unset = UNSET,
    status: list[ListFlowsStatusType0Item] | None | Unset = UNSET,
    include_deleted: bool | Unset = False,
    limit: None | str | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    q: None | str | Unset = UNSET,
    created_after: None | str | Unset = UNSET,
    created_before: None | str | Unset = UNSET,

) -> Response[Any | FlowPageOut | ForbiddenProblemOut | ProblemOut]:
    """ List flows, newest first, with cursor pagination

    Args:
        flow_type (None | str | Unset):
        status (list[ListFlowsStatusType0Item] | None | Unset): Filter by status; repeat for
            several.
        include_deleted (bool | Unset):  Default: False.
        limit (None | str | Unset): Page size: a whole number from 1 to the configured maximum.
        cursor (None | str | Unset):
        q (None | str | Unset): A name containing it, or an id starting with it.
        created_after (None | str | Unset): Created at or after this RFC 3339 date-time.
        created_before (None | str | Unset): Created before this RFC 3339 date-time.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | FlowPageOut | ForbiddenProblemOut | ProblemOut]
     """


    kwargs = _get_kwargs(
        flow_type=flow_type,
status=status,
include_deleted=include_deleted,
limit=limit,
cursor=cursor,
q=q,
created_after=created_after,
created_before=created_before,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    flow_type: None | str | Unset = UNSET,
    status: list[ListFlowsStatusType0Item] | None | Unset = UNSET,
    include_deleted: bool | Unset = False,
    limit: None | str | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    q: None | str | Unset = UNSET,
    created_after: None | str | Unset = UNSET,
    created_before: None | str | Unset = UNSET,

) -> Any | FlowPageOut | ForbiddenProblemOut | ProblemOut | None:
    """ List flows, newest first, with cursor pagination

    Args:
        flow_type (None | str | Unset):
        status (list[ListFlowsStatusType0Item] | None | Unset): Filter by status; repeat for
            several.
        include_deleted (bool | Unset):  Default: False.
        limit (None | str | Unset): Page size: a whole number from 1 to the configured maximum.
        cursor (None | str | Unset):
        q (None | str | Unset): A name containing it, or an id starting with it.
        created_after (None | str | Unset): Created at or after this RFC 3339 date-time.
        created_before (None | str | Unset): Created before this RFC 3339 date-time.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | FlowPageOut | ForbiddenProblemOut | ProblemOut
     """


    return sync_detailed(
        client=client,
flow_type=flow_type,
status=status,
include_deleted=include_deleted,
limit=limit,
cursor=cursor,
q=q,
created_after=created_after,
created_before=created_before,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    flow_type: None | str | Unset = UNSET,
    status: list[ListFlowsStatusType0Item] | None | Unset = UNSET,
    include_deleted: bool | Unset = False,
    limit: None | str | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    q: None | str | Unset = UNSET,
    created_after: None | str | Unset = UNSET,
    created_before: None | str | Unset = UNSET,

) -> Response[Any | FlowPageOut | ForbiddenProblemOut | ProblemOut]:
    """ List flows, newest first, with cursor pagination

    Args:
        flow_type (None | str | Unset):
        status (list[ListFlowsStatusType0Item] | None | Unset): Filter by status; repeat for
            several.
        include_deleted (bool | Unset):  Default: False.
        limit (None | str | Unset): Page size: a whole number from 1 to the configured maximum.
        cursor (None | str | Unset):
        q (None | str | Unset): A name containing it, or an id starting with it.
        created_after (None | str | Unset): Created at or after this RFC 3339 date-time.
        created_before (None | str | Unset): Created before this RFC 3339 date-time.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | FlowPageOut | ForbiddenProblemOut | ProblemOut]
     """


    kwargs = _get_kwargs(
        flow_type=flow_type,
status=status,
include_deleted=include_deleted,
limit=limit,
cursor=cursor,
q=q,
created_after=created_after,
created_before=created_before,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    flow_type: None | str | Unset = UNSET,
    status: list[ListFlowsStatusType0Item] | None | Unset = UNSET,
    include_deleted: bool | Unset = False,
    limit: None | str | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    q: None | str | Unset = UNSET,
    created_after: None | str | Unset = UNSET,
    created_before: None | str | Unset = UNSET,

) -> Any | FlowPageOut | ForbiddenProblemOut | ProblemOut | None:
    """ List flows, newest first, with cursor pagination

    Args:
        flow_type (None | str | Unset):
        status (list[ListFlowsStatusType0Item] | None | Unset): Filter by status; repeat for
            several.
        include_deleted (bool | Unset):  Default: False.
        limit (None | str | Unset): Page size: a whole number from 1 to the configured maximum.
        cursor (None | str | Unset):
        q (None | str | Unset): A name containing it, or an id starting with it.
        created_after (None | str | Unset): Created at or after this RFC 3339 date-time.
        created_before (None | str | Unset): Created before this RFC 3339 date-time.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | FlowPageOut | ForbiddenProblemOut | ProblemOut
     """


    return (await asyncio_detailed(
        client=client,
flow_type=flow_type,
status=status,
include_deleted=include_deleted,
limit=limit,
cursor=cursor,
q=q,
created_after=created_after,
created_before=created_before,

    )).parsed
