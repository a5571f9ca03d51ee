"""Every registered primitive has at least one law and one mutant, and every spec module is
registered: a primitive whose bound no known-bad variant has ever been shown to trip, or a spec
module that nothing imports, is a gap in the suite rather than a green result."""

from __future__ import annotations

import ast
import pkgutil
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


def _imported_by_init() -> set[str]:
    """The submodules `ssmspec/specs/__init__.py` imports (`from ssmspec.specs import a, b` or
    `import ssmspec.specs.a`), read from its syntax tree."""
    tree = ast.parse(Path(ssmspec.specs.__file__).read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "ssmspec.specs":
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 1 and node.module is None:
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name.split(".")[2] for a in node.names
                    if a.name.startswith("ssmspec.specs.")}
    return out


def test_every_spec_module_is_imported_by_the_package():
    """Each module of ssmspec/specs/ is imported by ssmspec/specs/__init__.py, so its specs, laws
    and mutants register whenever the registry loads, not only when something else happens to
    import the module."""
    modules = {m.name for m in pkgutil.iter_modules(ssmspec.specs.__path__)}
    missing = sorted(modules - _imported_by_init())
    assert not missing, f"ssmspec/specs modules not imported by its __init__: {missing}"
