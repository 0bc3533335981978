"""Data handling of the pipeline's stages, as plain functions.

The thin wrappers in ``stages/`` call these with the dataset's configuration
(``conf/data/<name>.yaml``, validated by :mod:`.dataset`) and paths from
``metadata.yaml``:

- :mod:`.sources` (ingest): a snapshot of the configured file, glob, S3 prefix or query,
  its table files known by name (:mod:`.formats`);
- :mod:`.tables` and :mod:`.column_types` (align): every file read as one typed table;
- :mod:`.cleaning` (process): rows without a label dropped and counted;
- :mod:`.experiment` and :mod:`.split` (build_experiment): features, task and split.

:mod:`.io` writes stage outputs atomically, so a failing stage never leaves half
an output behind, and :mod:`.errors` holds the error that names bad data.
"""
