"""Data handling of the pipeline's stages, as plain functions.

The example's own data stages, called by the thin wrappers in ``stages/``:

- :mod:`.simulate` (ingest): synthetic wearable recordings, to be replaced
  by the real source;
- :mod:`.align` (align): every device of a session on one time base;
- :mod:`.features` (process): cleaning, missing values and windowed features;
  :mod:`.schemas` and :mod:`.validation` check what each of them writes.

The generic ones, shared with every dataset: :mod:`.dataset` (the validated
``conf/data/<name>.yaml``), :mod:`.experiment` and :mod:`.split`
(build_experiment: features, task and a split by participant), :mod:`.tables`
and :mod:`.column_types` (reading tables, and the model's input types), and
:mod:`.io`, which writes every output atomically.
"""
