"""Every registered primitive has at least one law and one mutant, and every spec module is
registered: a primitive whose bound no known-bad variant has ever been shown to trip, or a spec
module that nothing imports, is a gap in the suite rather than a green result."""

from __future__ import annotations

import ast
import pkgutil
import sys
from pathlib import Path

import pytest

import ssmspec.specs
from ssmspec import registry

NAMES = sorted(s.name for s in registry.specs())


@pytest.mark.parametrize("primitive", NAMES)
def test_primitive_has_a_law(primitive):
    assert registry.laws(primitive), f"{primitive}: no law registered"


@pytest.mark.parametrize("primitive", NAMES)
def test_primitive_has_a_mutant(primitive):
    assert registry.mutants(primitive), f"{primitive}: no mutant registered"


def _owners() -> set[str]:
    """The modules that define something registered: a spec's adapter and strategy, a law's
    check, a mutant's witness, a bad input's call."""
    out: set[str] = set()
    for s in registry.specs():
        out |= {s.call.__module__, s.strategy.__module__}
    out |= {law.check.__module__ for law in registry.laws()}
    out |= {m.witness.__module__ for m in registry.mutants()}
    out |= {b.call.__module__ for b in registry.bad_inputs()}
    return out


def test_every_spec_module_is_discovered_and_registers_something():
    """`registry.load()` imports every module of ssmspec/specs/ (pkgutil discovery: nothing to
    forget), and each of them registers a spec, law, mutant or bad input of its own."""
    modules = set(registry.spec_modules())
    assert modules == {f"ssmspec.specs.{m.name}"
                       for m in pkgutil.iter_modules(ssmspec.specs.__path__)
                       if not m.name.startswith("_")}
    assert modules <= set(sys.modules), f"not imported: {sorted(modules - set(sys.modules))}"
    idle = sorted(modules - _owners())
    assert not idle, f"spec modules that register nothing: {idle}"


def _references_imported_by_specs() -> set[str]:
    """The reference modules (`ssmspec.reference.mp.X`, `ssmspec.reference.np.X`) the spec
    modules import, read from their syntax trees."""
    out: set[str] = set()
    for m in pkgutil.iter_modules(ssmspec.specs.__path__):
        path = Path(ssmspec.specs.__path__[0]) / f"{m.name}.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in (
                    "ssmspec.reference.mp", "ssmspec.reference.np"):
                out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


@pytest.mark.parametrize("tier", ["mp", "np"])
def test_every_reference_module_has_a_spec(tier):
    """A reference of a primitive that no spec module uses is checked by nothing."""
    import importlib

    package = importlib.import_module(f"ssmspec.reference.{tier}")
    helpers = {"precision"}  # the float64 tier's working precision, not a primitive's reference
    modules = {f"ssmspec.reference.{tier}.{m.name}" for m in pkgutil.iter_modules(package.__path__)
               if m.name not in helpers}
    unused = sorted(modules - _references_imported_by_specs())
    assert not unused, f"reference modules no spec module imports: {unused}"


def _bound_names(tree: ast.AST) -> set[str]:
    """Every name the module binds anywhere: assignments, parameters, definitions, imports,
    loop and comprehension targets, `except ... as` and `global` names."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            out.add(node.id)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            out |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.ExceptHandler) and node.name:
            out.add(node.name)
    return out


@pytest.mark.parametrize("module", registry.spec_modules())
def test_spec_module_uses_only_defined_names(module):
    """Spec modules take their vocabulary from `from ssmspec.speckit import *`, so ruff cannot
    tell an undefined name there; this test does: every name a spec module reads is bound in it,
    comes from `ssmspec.speckit` or is a builtin."""
    import builtins

    import ssmspec.speckit

    path = Path(sys.modules[module].__file__)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    known = _bound_names(tree) | set(ssmspec.speckit.__all__) | set(dir(builtins))
    unknown = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
                      and isinstance(n.ctx, ast.Load)} - known)
    assert not unknown, f"{module}: names used but never defined: {unknown}"


def test_speckit_exports_what_it_imports():
    """`ssmspec.speckit.__all__` is exactly the names it imports from ssmspec and the public
    helpers it defines (none missing, none stale)."""
    import ssmspec.speckit

    tree = ast.parse(Path(ssmspec.speckit.__file__).read_text(encoding="utf-8"))
    imported = {a.asname or a.name for n in tree.body if isinstance(n, ast.ImportFrom)
                and (n.module or "").startswith("ssmspec") for a in n.names}
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))
               and not n.name.startswith("_")}
    assert sorted(ssmspec.speckit.__all__) == sorted(imported | defined)
