"""Onset's benchmarks: run on demand (``make bench``), never in the test suite.

Each ``bench_<name>.py`` prints a table with ratios against a baseline measured in the same run.
"""
