"""The project's tests (a package, so tests can share small helpers such as ``champion``).

Tests never reach for the network: MLflow's usage telemetry, which looks up a host
from every process that imports MLflow, is off unless the environment turns it on.
It is set here because this runs before ``conftest.py`` imports MLflow.
"""

import os

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
