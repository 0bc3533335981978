"""The project's tests (a package, so tests can share small helpers such as ``sample_model``)."""
