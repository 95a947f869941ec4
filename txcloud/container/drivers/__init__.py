"""Container drivers, one module per provider."""
