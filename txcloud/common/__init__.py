"""Code shared by the compute, storage and container services."""
