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
