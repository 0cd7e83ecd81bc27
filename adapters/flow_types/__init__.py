"""Flow types: each a package with its phases (``phases.py``), its child table (``child_record.py``) and its
``register()``, the ``mfo.flow_types`` entry point that returns its ``FlowTypeDefinition``."""
