"""Flow types: each a package with its phases, its child table and its adapter."""
