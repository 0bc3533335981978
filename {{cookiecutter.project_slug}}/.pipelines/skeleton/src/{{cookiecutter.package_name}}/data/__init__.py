"""Data handling of the pipeline's stages, as plain functions.

:mod:`.sources` takes the snapshot of the configured source (ingest),
:mod:`.tables` reads it as one table, and :mod:`.experiment` and :mod:`.split`
pick the features, settle the task and split the rows (build_experiment).
:mod:`.io` writes stage outputs atomically, so a failing stage never leaves half
an output behind. Put the logic of your align and process stages here, one
module per stage, and keep ``stages/`` as thin wrappers.
"""
