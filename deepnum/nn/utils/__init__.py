"""Utilities for modules: gradient clipping, parameter vectors, padded/packed sequences."""
