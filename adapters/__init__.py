"""Adapters: implementations of the domain's ports (PostgreSQL, flow types, CrewAI, clock)."""
