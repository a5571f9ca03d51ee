"""The built-in specs, one module per primitive family; importing registers them."""

from ssmspec.specs import (  # noqa: F401
    convolution,
    convolution_laws,
    discretization,
    discretization_laws,
    dplr,
    dplr_laws,
    ema_layer,
    hippo,
    hippo_laws,
    kernels,
    kernels_laws,
    recurrent,
    recurrent_laws,
    s5,
    s5_laws,
    scans,
    scans_laws,
    selective,
    selective_laws,
    sweep_problems,  # last: attaches a sweep to the specs above
)
