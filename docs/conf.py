"""Sphinx configuration for txcloud's documentation."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

project = "txcloud"
author = "The txcloud developers"
copyright = "2026, The txcloud developers"
release = version = "0.1.0"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "sphinx.ext.doctest",
]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
# Type hints name classes Sphinx cannot link without network inventories.
nitpicky = False
suppress_warnings = ["ref.python"]

# No network in CI: intersphinx links resolve only when inventories are cached.
intersphinx_mapping: dict[str, tuple[str, object]] = {}

html_theme = "alabaster"
exclude_patterns = ["_build", "news/*"]
