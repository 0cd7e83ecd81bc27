from enum import StrEnum

class Operation(StrEnum):
    CANCEL = "cancel"
    COMPLETE_PHASE = "complete_phase"
    CREATE = "create"
    DELETE = "delete"
    EXECUTE_PHASE = "execute_phase"
    MIGRATE = "migrate"
    PAUSE = "pause"
    REATTEMPT_PHASE = "reattempt_phase"
    RESUME = "resume"
    RETRY = "retry"
    START = "start"
    SUBMIT_INPUT = "submit_input"

    def __str__(self) -> str:
        return str(self.value)
