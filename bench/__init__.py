"""Benchmarks and quality harnesses (not shipped in the wheel)."""
