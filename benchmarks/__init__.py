"""Benchmarks that print numbers (not tests): `python -m benchmarks`."""
