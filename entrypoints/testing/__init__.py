"""What MFO ships for testing flow types: the state-consistency harness (``consistency/``), the pytest plugin that
runs it (``pytest_plugin.py``, the ``pytest11`` entry point ``mfo``) and the PostgreSQL it runs on (``postgres.py``).

Installed with the ``testing`` extra (``pip install mfo[testing]``: Hypothesis and pytest). Only tests import it
(the import contract in pyproject.toml)."""
