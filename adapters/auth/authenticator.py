"""One authenticator for both credentials: an API key (``mfo_...``) or a JWT."""

from __future__ import annotations

from adapters.auth.api_keys import PREFIX, SqlApiKeyStore
from adapters.auth.tokens import JwtCodec
from domain.auth import AuthenticationFailed, Principal


class CredentialAuthenticator:
    def __init__(self, tokens: JwtCodec, api_keys: SqlApiKeyStore) -> None:
        self._tokens = tokens
        self._api_keys = api_keys

    async def authenticate(self, credential: str) -> Principal:
        credential = credential.strip()
        if not credential:
            raise AuthenticationFailed("the credential is empty", missing=True)
        if len(credential) > 8192:
            raise AuthenticationFailed("the credential is too long")
        if credential.startswith(PREFIX):
            return await self._api_keys.authenticate(credential)
        return self._tokens.verify(credential)
