"""ssmspec: the numerics verification and specification suite for state-space-model primitives.

`ssmspec.reference` holds the mathematics (mpmath and float64), `ssmspec.impl` the built-in
PyTorch implementations, `ssmspec.properties` the generic property tests, and this package the
harness: specs, the registry, the error model, the report and the `ssmspec` command.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ssmspec")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"


def _source_root() -> str | None:
    """The checkout this package sits in, if it is one (reference/, impl/, properties/ and
    pyproject.toml beside this folder); None for an installed copy."""
    import os

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    beside = all(os.path.isdir(os.path.join(root, d)) for d in ("reference", "impl", "properties"))
    return root if beside and os.path.isfile(os.path.join(root, "pyproject.toml")) else None


# Run from a source checkout (python -m ssmspec.cli in the repo root, say), the top-level folders
# are found as ssmspec.reference, ssmspec.impl and ssmspec.properties, as the installed mapping
# makes them; an installed copy is untouched.
if (_root := _source_root()) is not None and _root not in __path__:
    __path__.append(_root)
