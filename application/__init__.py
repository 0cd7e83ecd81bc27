"""Use cases. Depends on ``domain`` (and its ports) only."""
