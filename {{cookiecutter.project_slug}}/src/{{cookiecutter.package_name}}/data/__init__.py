"""The data stages of the example pipeline, as pure functions.

Each module holds the logic of one stage; the thin wrappers in ``stages/``
call it with values from the configuration and paths from ``metadata.yaml``:

- :mod:`.simulate` (ingest): synthetic wearable recordings, to be replaced
  by the real source;
- :mod:`.align` (align): every device of a session on one time base;
- :mod:`.features` (process): cleaning, missing values and windowed features;
- :mod:`.split` (build_experiment): feature subset, label and a split by participant.

:mod:`.schemas` validates what each stage writes, and :mod:`.io` writes it
atomically, so a failing stage never leaves half an output behind.
"""
