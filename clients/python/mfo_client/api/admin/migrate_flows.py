from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.bulk_migrate_request import BulkMigrateRequest
from ...models.bulk_migration_out import BulkMigrationOut
from ...models.forbidden_problem_out import ForbiddenProblemOut
from ...models.problem_out import ProblemOut
from typing import cast



def _get_kwargs(
    *,
    body: BulkMigrateRequest,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/admin/flows/migrate",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> BulkMigrationOut | ForbiddenProblemOut | ProblemOut | None:
    if response.status_code == 200:
        response_200 = BulkMigrationOut.from_dict(response.json())



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

    if response.status_code == 413:
        response_413 = ProblemOut.from_dict(response.json())



        return response_413

    if response.status_code == 415:
        response_415 = ProblemOut.from_dict(response.json())



        return response_415

    if response.status_code == 422:
        response_422 = ProblemOut.from_dict(response.json())



        return response_422

    if response.status_code == 503:
        response_503 = ProblemOut.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[BulkMigrationOut | ForbiddenProblemOut | ProblemOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: BulkMigrateRequest,

) -> Response[BulkMigrationOut | ForbiddenProblemOut | ProblemOut]:
    """ Move the tenant's flows of one version of a type to another (a dry run lists what would change)

     Every flow of `flow_type` at `from_version` (in `statuses`, default any but deleted; at most
    `limit`, newest first) is moved to `to_version`, each in a transaction and an event of its own; a
    flow the mapping cannot move is listed as `refused` with why, and does not hold the others up.
    `dry_run: true` lists the same without changing anything. A tenant admin's route.

    Args:
        body (BulkMigrateRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BulkMigrationOut | ForbiddenProblemOut | ProblemOut]
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
    body: BulkMigrateRequest,

) -> BulkMigrationOut | ForbiddenProblemOut | ProblemOut | None:
    """ Move the tenant's flows of one version of a type to another (a dry run lists what would change)

     Every flow of `flow_type` at `from_version` (in `statuses`, default any but deleted; at most
    `limit`, newest first) is moved to `to_version`, each in a transaction and an event of its own; a
    flow the mapping cannot move is listed as `refused` with why, and does not hold the others up.
    `dry_run: true` lists the same without changing anything. A tenant admin's route.

    Args:
        body (BulkMigrateRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BulkMigrationOut | ForbiddenProblemOut | ProblemOut
     """


    return sync_detailed(
        client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: BulkMigrateRequest,

) -> Response[BulkMigrationOut | ForbiddenProblemOut | ProblemOut]:
    """ Move the tenant's flows of one version of a type to another (a dry run lists what would change)

     Every flow of `flow_type` at `from_version` (in `statuses`, default any but deleted; at most
    `limit`, newest first) is moved to `to_version`, each in a transaction and an event of its own; a
    flow the mapping cannot move is listed as `refused` with why, and does not hold the others up.
    `dry_run: true` lists the same without changing anything. A tenant admin's route.

    Args:
        body (BulkMigrateRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BulkMigrationOut | ForbiddenProblemOut | ProblemOut]
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
    body: BulkMigrateRequest,

) -> BulkMigrationOut | ForbiddenProblemOut | ProblemOut | None:
    """ Move the tenant's flows of one version of a type to another (a dry run lists what would change)

     Every flow of `flow_type` at `from_version` (in `statuses`, default any but deleted; at most
    `limit`, newest first) is moved to `to_version`, each in a transaction and an event of its own; a
    flow the mapping cannot move is listed as `refused` with why, and does not hold the others up.
    `dry_run: true` lists the same without changing anything. A tenant admin's route.

    Args:
        body (BulkMigrateRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BulkMigrationOut | ForbiddenProblemOut | ProblemOut
     """


    return (await asyncio_detailed(
        client=client,
body=body,

    )).parsed
