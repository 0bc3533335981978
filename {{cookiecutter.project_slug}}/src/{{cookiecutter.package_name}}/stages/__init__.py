"""The pipeline's stages, one module each, in the order ``dvc.yaml`` runs them.

Every module has a function that does the work from a config, and a ``main``
that runs it as a Hydra application:

    python -m {{ cookiecutter.package_name }}.stages.<stage> [overrides]
"""
