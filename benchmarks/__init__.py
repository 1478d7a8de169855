"""Benchmark suite for batchfit (see README.md); run with ``python -m benchmarks``."""
