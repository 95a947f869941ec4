"""Sphinx configuration for txcloud's documentation."""

import os
import pkgutil
import sys

from sphinx.pycode import ModuleAnalyzer

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


def _defining_comment(package_name: str, attribute: str) -> list[str]:
    """
    The ``#:`` comment of *attribute* in the submodule of *package_name* that
    defines it: autodoc finds no comment for a constant a package re-exports
    (the API pages name those with ``autodata``), so show the one written
    beside its definition.
    """
    package = sys.modules.get(package_name)
    if package is None or attribute not in getattr(package, "__all__", ()):
        return []
    for info in pkgutil.iter_modules(getattr(package, "__path__", []), package_name + "."):
        comment = ModuleAnalyzer.for_module(info.name).find_attr_docs().get(("", attribute))
        if comment:
            return list(comment)
    return []


def _document_reexported_constants(app, what, name, obj, options, lines):
    """Give a re-exported constant the comment written beside its definition."""
    if what == "data":
        package_name, _, attribute = name.rpartition(".")
        comment = _defining_comment(package_name, attribute)
        if comment:
            # Without it, autodoc shows the docstring of the value's type.
            lines[:] = comment


def setup(app):
    app.connect("autodoc-process-docstring", _document_reexported_constants)
