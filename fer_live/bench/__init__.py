"""Benchmarks: `python -m fer_live.bench [annotate|model|soak|all]` (see fer_live.bench.cli)."""
