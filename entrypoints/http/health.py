from __future__ import annotations

from litestar import Response, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec

from entrypoints.http.schemas import HealthOut


@get(
    "/health",
    operation_id="health",
    summary="Liveness and database check",
    tags=["health"],
    responses={503: ResponseSpec(HealthOut, description="The database does not answer")},
)
async def health(state: State) -> Response[HealthOut]:
    try:
        version = await state.container.database_health().check()
    except Exception as error:  # any failure to reach the database means unhealthy
        return Response(
            HealthOut("unavailable", f"unreachable: {error.__class__.__name__}"),
            status_code=503,
            headers={"Retry-After": "2"},
        )
    return Response(HealthOut("ok", f"PostgreSQL {version}"))
