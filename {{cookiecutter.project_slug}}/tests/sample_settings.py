"""Hydra overrides that make the data stages quick, for tests that run them.

Empty: the tests run the data stages on the configured source as it is. Add
overrides here when your stages take long on it (a sample size of your own, say).
"""

DATA_STAGE_OVERRIDES: list[str] = []
