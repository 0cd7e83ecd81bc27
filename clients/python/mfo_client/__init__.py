
""" A client library for accessing MFO - Master Flow Orchestrator """
from .client import AuthenticatedClient, Client

__all__ = (
    "AuthenticatedClient",
    "Client",
)
