"""Authentication adapters: JWT bearer tokens and hashed API keys, behind the ``Authenticator`` port."""

from adapters.auth.api_keys import CreatedApiKey, SqlApiKeyStore, api_keys
from adapters.auth.authenticator import CredentialAuthenticator
from adapters.auth.tokens import JwtCodec

__all__ = ["CreatedApiKey", "CredentialAuthenticator", "JwtCodec", "SqlApiKeyStore", "api_keys"]
