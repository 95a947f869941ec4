"""
The package's layout rules, checked on its source: no import cycle among
txcloud's modules at run time, and providers of several modules kept in a
package of their own.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator

from twisted.trial.unittest import SynchronousTestCase

import txcloud

_ROOT = os.path.dirname(os.path.abspath(txcloud.__file__))

#: The folders holding one module or one package per provider.
_DRIVER_FOLDERS = ("compute/drivers", "storage/drivers", "container/drivers")


def _module_files(root: str = _ROOT) -> dict[str, str]:
    """Dotted module names of txcloud (tests aside) and their files."""
    modules = {}
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if name not in ("test", "__pycache__")]
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                dotted = os.path.relpath(path[:-3], os.path.dirname(root)).replace(os.sep, ".")
                modules[dotted.removesuffix(".__init__")] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _run_time_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement run at some point: at module level or in a function."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            for branch in node.orelse:
                yield from _run_time_imports(ast.Module(body=[branch], type_ignores=[]))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        else:
            yield from _run_time_imports(node)


def _imported_modules(module: str, path: str, known: dict[str, str]) -> set[str]:
    """txcloud modules *module* imports at run time, packages it passes through included."""
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    with open(path, encoding="utf-8") as source:
        tree = ast.parse(source.read(), path)
    names: list[str] = []
    for node in _run_time_imports(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            parts = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*parts, base] if base else parts)
        names.append(base)
        names.extend(f"{base}.{alias.name}" for alias in node.names)
    found = set()
    for name in names:
        parts = name.split(".")
        for end in range(2, len(parts) + 1):
            prefix = ".".join(parts[:end])
            # A module's own packages are imported before it: no edge to them.
            if prefix in known and not module.startswith(prefix + ".") and prefix != module:
                found.add(prefix)
    return found


def import_cycles(modules: dict[str, str]) -> list[list[str]]:
    """The strongly connected groups of more than one module in the run-time import graph."""
    graph = {module: _imported_modules(module, path, modules) for module, path in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles


class ImportCycleTests(SynchronousTestCase):
    """No txcloud module imports, through others, a module that imports it back."""

    def write_package(self, files: dict[str, str]) -> dict[str, str]:
        root = os.path.join(self.mktemp(), "pkg")
        for name, text in {"__init__.py": "", **files}.items():
            path = os.path.join(root, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as file:
                file.write(text)
        return _module_files(root)

    def test_txcloud_has_no_run_time_import_cycle(self) -> None:
        self.assertEqual(import_cycles(_module_files()), [])

    def test_a_cycle_through_a_function_level_import_is_found(self) -> None:
        modules = self.write_package(
            {
                "a.py": "from pkg.b import thing\n",
                "b.py": "def thing():\n    from pkg import a\n",
            }
        )
        self.assertEqual(import_cycles(modules), [["pkg.a", "pkg.b"]])

    def test_a_cycle_through_a_package_init_is_found(self) -> None:
        modules = self.write_package(
            {
                "sub/__init__.py": "from pkg.sub.inner import name\n",
                "sub/inner.py": "name = 1\n",
                "other.py": "from pkg.sub.inner import name\n",
                "base.py": "import pkg.other\n",
                "sub/uses_base.py": "from pkg import base\n",
            }
        )
        # pkg.sub.__init__ imports nothing that leads back: no cycle yet.
        self.assertEqual(import_cycles(modules), [])
        with open(modules["pkg.sub"], "a", encoding="utf-8") as init:
            init.write("from pkg.sub import uses_base\n")
        self.assertEqual(
            import_cycles(modules), [["pkg.base", "pkg.other", "pkg.sub", "pkg.sub.uses_base"]]
        )

    def test_imports_only_for_type_checking_make_no_cycle(self) -> None:
        modules = self.write_package(
            {
                "a.py": "from pkg.b import thing\n",
                "b.py": (
                    "from typing import TYPE_CHECKING\n"
                    "if TYPE_CHECKING:\n    from pkg.a import x\n"
                    "thing = 1\n"
                ),
            }
        )
        self.assertEqual(import_cycles(modules), [])

    def test_relative_imports_are_followed(self) -> None:
        modules = self.write_package({"a.py": "from .b import y\n", "b.py": "from . import a\n"})
        self.assertEqual(import_cycles(modules), [["pkg.a", "pkg.b"]])


class DriverLayoutTests(SynchronousTestCase):
    """A provider whose driver needs several modules has a package of its own."""

    def families(self, names: list[str]) -> list[list[str]]:
        """Groups of modules (and packages) in one folder sharing a ``prefix_``."""
        groups: dict[str, list[str]] = {}
        for name in names:
            groups.setdefault(name.split("_")[0], []).append(name)
        return [group for group in groups.values() if len(group) > 1]

    def test_a_prefixed_family_is_recognised(self) -> None:
        self.assertEqual(
            self.families(["azure_base", "azure_blobs", "local", "s3", "s3_parse"]),
            [["azure_base", "azure_blobs"], ["s3", "s3_parse"]],
        )

    def test_no_family_of_prefixed_modules_beside_a_provider(self) -> None:
        found: list[tuple[str, list[str]]] = []
        for folder in _DRIVER_FOLDERS:
            path = os.path.join(_ROOT, *folder.split("/"))
            names = sorted(
                name.removesuffix(".py")
                for name in os.listdir(path)
                if name not in ("__init__.py", "__pycache__")
                and (name.endswith(".py") or os.path.isdir(os.path.join(path, name)))
            )
            found.extend((folder, family) for family in self.families(names))
        self.assertEqual(found, [])
