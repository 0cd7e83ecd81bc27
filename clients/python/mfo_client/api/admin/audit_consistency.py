from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.audit_report_out import AuditReportOut
from ...models.forbidden_problem_out import ForbiddenProblemOut
from ...models.problem_out import ProblemOut
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    *,
    limit: int | Unset = 100,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    params["limit"] = limit


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/admin/consistency",
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> AuditReportOut | ForbiddenProblemOut | ProblemOut | None:
    if response.status_code == 200:
        response_200 = AuditReportOut.from_dict(response.json())



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

    if response.status_code == 503:
        response_503 = ProblemOut.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[AuditReportOut | ForbiddenProblemOut | ProblemOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 100,

) -> Response[AuditReportOut | ForbiddenProblemOut | ProblemOut]:
    """ Check every flow's master, child, CrewAI state and event count in one query (a tenant admin: its
    own)

    Args:
        limit (int | Unset): Most findings to list. Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AuditReportOut | ForbiddenProblemOut | ProblemOut]
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
    limit: int | Unset = 100,

) -> AuditReportOut | ForbiddenProblemOut | ProblemOut | None:
    """ Check every flow's master, child, CrewAI state and event count in one query (a tenant admin: its
    own)

    Args:
        limit (int | Unset): Most findings to list. Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AuditReportOut | ForbiddenProblemOut | ProblemOut
     """


    return sync_detailed(
        client=client,
limit=limit,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 100,

) -> Response[AuditReportOut | ForbiddenProblemOut | ProblemOut]:
    """ Check every flow's master, child, CrewAI state and event count in one query (a tenant admin: its
    own)

    Args:
        limit (int | Unset): Most findings to list. Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AuditReportOut | ForbiddenProblemOut | ProblemOut]
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
    limit: int | Unset = 100,

) -> AuditReportOut | ForbiddenProblemOut | ProblemOut | None:
    """ Check every flow's master, child, CrewAI state and event count in one query (a tenant admin: its
    own)

    Args:
        limit (int | Unset): Most findings to list. Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AuditReportOut | ForbiddenProblemOut | ProblemOut
     """


    return (await asyncio_detailed(
        client=client,
limit=limit,

    )).parsed
