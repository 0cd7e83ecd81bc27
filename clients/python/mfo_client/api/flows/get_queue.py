from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.forbidden_problem_out import ForbiddenProblemOut
from ...models.problem_out import ProblemOut
from ...models.queue_out import QueueOut
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    *,
    limit: None | str | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    json_limit: None | str | Unset
    if isinstance(limit, Unset):
        json_limit = UNSET
    else:
        json_limit = limit
    params["limit"] = json_limit


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/queue",
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | ForbiddenProblemOut | ProblemOut | QueueOut | None:
    if response.status_code == 200:
        response_200 = QueueOut.from_dict(response.json())



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | ForbiddenProblemOut | ProblemOut | QueueOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    limit: None | str | Unset = UNSET,

) -> Response[Any | ForbiddenProblemOut | ProblemOut | QueueOut]:
    """ The tenant's flows waiting for a worker and its phases running, with their attempts and leases

     Answers 304 to an `If-None-Match` naming its current ETag.

    Args:
        limit (None | str | Unset): Page size: a whole number from 1 to the configured maximum.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ForbiddenProblemOut | ProblemOut | QueueOut]
     """


    kwargs = _get_kwargs(
        limit=limit,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    limit: None | str | Unset = UNSET,

) -> Any | ForbiddenProblemOut | ProblemOut | QueueOut | None:
    """ The tenant's flows waiting for a worker and its phases running, with their attempts and leases

     Answers 304 to an `If-None-Match` naming its current ETag.

    Args:
        limit (None | str | Unset): Page size: a whole number from 1 to the configured maximum.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ForbiddenProblemOut | ProblemOut | QueueOut
     """


    return sync_detailed(
        client=client,
limit=limit,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    limit: None | str | Unset = UNSET,

) -> Response[Any | ForbiddenProblemOut | ProblemOut | QueueOut]:
    """ The tenant's flows waiting for a worker and its phases running, with their attempts and leases

     Answers 304 to an `If-None-Match` naming its current ETag.

    Args:
        limit (None | str | Unset): Page size: a whole number from 1 to the configured maximum.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ForbiddenProblemOut | ProblemOut | QueueOut]
     """


    kwargs = _get_kwargs(
        limit=limit,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    limit: None | str | Unset = UNSET,

) -> Any | ForbiddenProblemOut | ProblemOut | QueueOut | None:
    """ The tenant's flows waiting for a worker and its phases running, with their attempts and leases

     Answers 304 to an `If-None-Match` naming its current ETag.

    Args:
        limit (None | str | Unset): Page size: a whole number from 1 to the configured maximum.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ForbiddenProblemOut | ProblemOut | QueueOut
     """


    return (await asyncio_detailed(
        client=client,
limit=limit,

    )).parsed
