"""PostgreSQL URLs with one host or several (a primary and its standbys: docs/operations.md, ADR 0016).

Three spellings name several hosts: libpq's and asyncpg's ``postgresql://u:p@h1:5432,h2:5433/db``, libpq's
``?host=h1,h2&port=5432,5433`` and SQLAlchemy's ``?host=h1:5432&host=h2:5433``. MFO keeps SQLAlchemy's (Alembic,
``url_with_user``) and hands asyncpg the first (``asyncpg_dsn``); other query options such as
``target_session_attrs=read-write`` pass through to both. A one-host URL keeps the spelling it came in.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode

SQLALCHEMY_SCHEME = "postgresql+asyncpg://"
_SCHEMES = (SQLALCHEMY_SCHEME, "postgresql://", "postgres://")
DEFAULT_PORT = 5432


class InvalidDatabaseUrl(ValueError):
    """A URL that is not a PostgreSQL URL, or whose hosts and ports do not pair up."""


def sqlalchemy_url(url: str) -> str:
    """``url`` as SQLAlchemy's asyncpg dialect takes it: ``postgresql+asyncpg://``, several hosts as repeated
    ``host=name:port`` query parameters."""
    rest = _without_scheme(url)
    authority, _, tail = rest.partition("/")
    path, _, query = tail.partition("?")
    userinfo, at, hostlist = authority.rpartition("@")
    params = parse_qsl(query, keep_blank_values=True)
    hosts = _hosts_in_authority(hostlist) + _hosts_in_query(params)
    if len(hosts) < 2:
        return SQLALCHEMY_SCHEME + rest
    others = [(key, value) for key, value in params if key not in {"host", "port"}]
    host_params = [("host", f"{host}:{port}") for host, port in hosts]
    prefix = f"{userinfo}@" if at else ""
    return f"{SQLALCHEMY_SCHEME}{prefix}/{path}?{urlencode(host_params + others, safe=':[]/')}"


def asyncpg_dsn(url: str) -> str:
    """``url`` (any spelling above) as asyncpg's ``connect`` takes it: ``postgresql://u:p@h1:p1,h2:p2/db?...``."""
    rest = _without_scheme(url)
    authority, _, tail = rest.partition("/")
    path, _, query = tail.partition("?")
    userinfo, at, hostlist = authority.rpartition("@")
    params = parse_qsl(query, keep_blank_values=True)
    hosts = _hosts_in_authority(hostlist) + _hosts_in_query(params)
    if len(hosts) < 2:
        return "postgresql://" + rest
    others = [(key, value) for key, value in params if key not in {"host", "port"}]
    prefix = f"{userinfo}@" if at else ""
    netloc = ",".join(f"{host}:{port}" for host, port in hosts)
    query_text = f"?{urlencode(others, quote_via=quote)}" if others else ""
    return f"postgresql://{prefix}{netloc}/{path}{query_text}"


def each_host(url: str) -> list[str]:
    """``url`` as one asyncpg DSN per host, in order, each with every other part of ``url`` (its query too)."""
    rest = _without_scheme(url)
    authority, _, tail = rest.partition("/")
    path, _, query = tail.partition("?")
    userinfo, at, hostlist = authority.rpartition("@")
    params = parse_qsl(query, keep_blank_values=True)
    hosts = _hosts_in_authority(hostlist) + _hosts_in_query(params)
    if len(hosts) < 2:
        return [asyncpg_dsn(url)]
    others = [(key, value) for key, value in params if key not in {"host", "port"}]
    prefix = f"{userinfo}@" if at else ""
    query_text = f"?{urlencode(others, quote_via=quote)}" if others else ""
    return [f"postgresql://{prefix}{host}:{port}/{path}{query_text}" for host, port in hosts]


def host_count(url: str) -> int:
    rest = _without_scheme(url)
    authority, _, tail = rest.partition("/")
    hostlist = authority.rpartition("@")[2]
    params = parse_qsl(tail.partition("?")[2], keep_blank_values=True)
    return max(1, len(_hosts_in_authority(hostlist) + _hosts_in_query(params)))


def _without_scheme(url: str) -> str:
    for scheme in _SCHEMES:
        if url.startswith(scheme):
            return url[len(scheme) :]
    raise InvalidDatabaseUrl(f"MFO needs a PostgreSQL URL (postgresql://...), not {url.split(':', 1)[0]}://...")


def _hosts_in_authority(hostlist: str) -> list[tuple[str, int]]:
    """``h1:p1,h2:p2`` (each port may be left out: 5432); a single host is returned only when it is one of several."""
    if "," not in hostlist:
        return []
    return [_host_and_port(item, None) for item in hostlist.split(",")]


def _hosts_in_query(params: list[tuple[str, str]]) -> list[tuple[str, int]]:
    """``host=h1:p1&host=h2:p2`` (SQLAlchemy) or ``host=h1,h2&port=p1,p2`` (libpq); fewer than two: none."""
    hosts = [item for key, value in params if key == "host" for item in value.split(",") if item]
    if len(hosts) < 2:
        return []
    ports = [item for key, value in params if key == "port" for item in value.split(",") if item]
    if ports and len(ports) not in {1, len(hosts)}:
        raise InvalidDatabaseUrl(f"{len(hosts)} hosts but {len(ports)} ports: give one port, or one for each host")
    paired = ports * len(hosts) if len(ports) == 1 else ports or [None] * len(hosts)
    return [_host_and_port(host, port) for host, port in zip(hosts, paired, strict=True)]


def _host_and_port(item: str, port: str | None) -> tuple[str, int]:
    item = item.strip()
    if item.startswith("["):  # an IPv6 literal: [::1]:5432
        host, _, after = item[1:].partition("]")
        name, text = f"[{host}]", after.removeprefix(":") or port
    elif item.count(":") == 1:
        name, text = item.split(":")
    else:
        name, text = item, port
    if not name or name == "[]":
        raise InvalidDatabaseUrl(f"an empty host in the database URL's host list ({item!r})")
    try:
        number = DEFAULT_PORT if text in {None, ""} else int(text)
    except ValueError:
        raise InvalidDatabaseUrl(f"the port of {item!r} is not a number") from None
    if not 0 < number < 65536:
        raise InvalidDatabaseUrl(f"the port of {item!r} is out of range")
    return name, number
