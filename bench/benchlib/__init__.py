"""Helpers of bench/run_bench.py."""
