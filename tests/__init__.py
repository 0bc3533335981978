"""Tests of the template: hooks, rendering, and the generated project end to end."""
