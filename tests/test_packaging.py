"""What pyproject.toml declares: the default install carries what the package imports and
nothing that only perf/ uses."""

import ast
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _names(reqs):
    return {r.split(";")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower() for r in reqs}


def test_pytest_benchmark_is_an_extra_of_perf_only():
    assert "pytest-benchmark" not in _names(PROJECT["dependencies"])
    assert "pytest-benchmark" in _names(PROJECT["optional-dependencies"]["perf"])


def test_tomli_is_declared_where_tomllib_is_missing():
    """Every module that falls back to `tomli` has it declared for Python < 3.11."""
    users = [p for p in (ROOT / "ssmspec").rglob("*.py")
             if any(isinstance(n, ast.Import) and any(a.name == "tomli" for a in n.names)
                    for n in ast.walk(ast.parse(p.read_text())))]
    assert users, "no module reads TOML any more: drop the tomli requirement"
    tomli = [r for r in PROJECT["dependencies"] if r.startswith("tomli")]
    assert tomli and "python_version < '3.11'" in tomli[0]


def test_no_module_outside_perf_imports_pytest_benchmark():
    for folder in ("ssmspec", "impl", "reference", "properties", "tests"):
        for p in (ROOT / folder).rglob("*.py"):
            if p != Path(__file__).resolve():
                assert "import pytest_benchmark" not in p.read_text(), p
