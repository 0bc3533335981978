"""Hydra overrides that make the data stages quick, for tests that run them.

The example's simulator makes a smaller study: four participants, one short
session of each task.
"""

DATA_STAGE_OVERRIDES: list[str] = [
    "data.stages.ingest.participants=4",
    "data.stages.ingest.sessions_per_task=1",
    "data.stages.ingest.duration_s=30",
]
