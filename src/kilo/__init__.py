"""Kilo: a per-symbol machine-learning research pipeline for crypto trading."""

__version__ = "0.1.0"
