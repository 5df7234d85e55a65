"""Benchmarks (``make bench`` = ``python -m bench``): figures and ratios, no assertions.

See bench/README.md for what each figure means and the targets.
"""
