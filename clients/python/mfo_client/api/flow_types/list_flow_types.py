from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.flow_type_list_out import FlowTypeListOut
from ...models.forbidden_problem_out import ForbiddenProblemOut
from ...models.problem_out import ProblemOut
from typing import cast



def _get_kwargs(
    
) -> dict[str, Any]:
    

    

    

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/flow-types",
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> FlowTypeListOut | ForbiddenProblemOut | ProblemOut | None:
    if response.status_code == 200:
        response_200 = FlowTypeListOut.from_dict(response.json())



        return response_200

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[FlowTypeListOut | ForbiddenProblemOut | ProblemOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,

) -> Response[FlowTypeListOut | ForbiddenProblemOut | ProblemOut]:
    """ Every registered flow type with its phases, its versions and how many of the tenant's flows use each

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[FlowTypeListOut | ForbiddenProblemOut | ProblemOut]
     """


    kwargs = _get_kwargs(
        
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,

) -> FlowTypeListOut | ForbiddenProblemOut | ProblemOut | None:
    """ Every registered flow type with its phases, its versions and how many of the tenant's flows use each

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        FlowTypeListOut | ForbiddenProblemOut | ProblemOut
     """


    return sync_detailed(
        client=client,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,

) -> Response[FlowTypeListOut | ForbiddenProblemOut | ProblemOut]:
    """ Every registered flow type with its phases, its versions and how many of the tenant's flows use each

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[FlowTypeListOut | ForbiddenProblemOut | ProblemOut]
     """


    kwargs = _get_kwargs(
        
    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,

) -> FlowTypeListOut | ForbiddenProblemOut | ProblemOut | None:
    """ Every registered flow type with its phases, its versions and how many of the tenant's flows use each

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        FlowTypeListOut | ForbiddenProblemOut | ProblemOut
     """


    return (await asyncio_detailed(
        client=client,

    )).parsed
