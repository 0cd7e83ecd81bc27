"""The state-consistency harness: the reference model, the machine, the invariants, the linearizability checker
and the faults it injects (docs/testing.md)."""
