"""Helpers for container drivers: image registries (:mod:`txcloud.container.utils.docker`)."""
