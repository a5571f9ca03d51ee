"""The built-in specs, one module per primitive family; importing registers them."""

from ssmspec.specs import discretization, discretization_laws, hippo, hippo_laws  # noqa: F401
