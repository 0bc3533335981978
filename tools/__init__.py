"""Scripts that bake the template and drive generated projects: demo, benchmarks, test helpers."""
