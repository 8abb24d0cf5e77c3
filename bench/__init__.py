"""Benchmarks for jifen (``make bench``): every figure measured next to the raw limit or
baseline it is judged against, in the same run, on this machine.

Benchmarks are not tests: nothing here asserts a time. ``tests/bench`` runs the harness at
a tiny size only so that it cannot rot.
"""
