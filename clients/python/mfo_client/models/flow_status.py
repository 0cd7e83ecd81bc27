from enum import StrEnum

class FlowStatus(StrEnum):
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    DELETED = "deleted"
    FAILED = "failed"
    INITIALIZED = "initialized"
    PAUSED = "paused"
    RUNNING = "running"
    WAITING_FOR_INPUT = "waiting_for_input"

    def __str__(self) -> str:
        return str(self.value)
