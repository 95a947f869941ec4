"""Storage drivers, one module per provider."""
