"""The CrewAI bridge: flow types' phases run as real CrewAI Flows, inside the orchestrator's transaction."""

from adapters.crewai_bridge.adapter import CrewAIFlowTypeAdapter, crewai_adapter

__all__ = ["CrewAIFlowTypeAdapter", "crewai_adapter"]
