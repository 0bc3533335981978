"""The project's code: data stages, training, evaluation and inference.

Facts about the project (name, owner, data locations, tracking) live in
``metadata.yaml`` at the project root; read them with
:func:`{{ cookiecutter.package_name }}.metadata.load_metadata`.
"""

from importlib.metadata import version

__version__ = version("{{ cookiecutter.project_slug }}")
