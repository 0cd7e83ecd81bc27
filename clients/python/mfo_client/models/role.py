from enum import StrEnum

class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    PLATFORM = "platform"
    VIEWER = "viewer"

    def __str__(self) -> str:
        return str(self.value)
