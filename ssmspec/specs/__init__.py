"""The built-in specs, one module per primitive family; importing registers them."""

from ssmspec.specs import (  # noqa: F401
    convolution,
    convolution_laws,
    discretization,
    discretization_laws,
    hippo,
    hippo_laws,
    kernels,
    kernels_laws,
    scans,
    scans_laws,
    selective,
    selective_laws,
)
