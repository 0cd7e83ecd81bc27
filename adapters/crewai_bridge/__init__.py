"""The CrewAI bridge: flow types' phases run as real CrewAI Flows, inside the orchestrator's transaction."""

from adapters.crewai_bridge.service import CrewAIFlowService, crewai_adapter

__all__ = ["CrewAIFlowService", "crewai_adapter"]
