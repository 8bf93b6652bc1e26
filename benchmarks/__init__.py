"""Benchmarks: each runs the reference tool in the same run and prints ratios.

Run one with ``python -m benchmarks.bench_import`` (etc.), or all with ``make bench``.
They are not tests: timings are printed, never asserted.
"""
