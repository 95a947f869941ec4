"""Compute drivers, one module per provider."""
