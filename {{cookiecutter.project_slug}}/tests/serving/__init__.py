"""Tests of the prediction service (serving/): removed with it when serving=none."""
