"""Compute: nodes, sizes, images, locations and key pairs."""
