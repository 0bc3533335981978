"""The small classifier that batch-inference and service tests use as the project's model."""

from __future__ import annotations

import pandas as pd
from sklearn.linear_model import LogisticRegression

FEATURES = pd.DataFrame(
    {"bpm_mean": [60.0, 65.0, 150.0, 160.0], "acc_mag_std": [0.1, 0.2, 2.0, 2.5]}
)
LABELS = ["sitting", "sitting", "running", "running"]


def fit_sample_model() -> LogisticRegression:
    """A classifier that predicts ``LABELS`` for ``FEATURES``."""
    return LogisticRegression().fit(FEATURES, LABELS)
