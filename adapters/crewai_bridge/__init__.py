"""The CrewAI bridge: flow types' phases run as real CrewAI Flows, inside the orchestrator's transaction."""

from adapters.crewai_bridge.service import CrewAIFlowService, through_crewai

__all__ = ["CrewAIFlowService", "through_crewai"]
