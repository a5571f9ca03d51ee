"""Fixtures shared by the tests of tests/."""

import pytest
import torch


@pytest.fixture
def scan_inputs():
    """`make(shape, dtype, seed=0, complex_=False, device="cpu") -> [a, b, h0]`: a linear scan's
    inputs requiring grad, drawn in float64 then cast: a in [0.5, 1) (times a unit phase when
    complex), b and h0 standard normal; h0 of shape `shape[:-1]`."""

    def make(shape, dtype, seed=0, complex_=False, device="cpu"):
        g = torch.Generator().manual_seed(seed)
        a = 0.5 + 0.5 * torch.rand(shape, generator=g, dtype=torch.float64)
        b = torch.randn(shape, generator=g, dtype=torch.float64)
        h0 = torch.randn(shape[:-1], generator=g, dtype=torch.float64)
        if complex_:
            a = a * torch.exp(1j * torch.rand(shape, generator=g, dtype=torch.float64))
            b = torch.complex(b, torch.randn(shape, generator=g, dtype=torch.float64))
            h0 = torch.complex(h0, torch.randn(shape[:-1], generator=g, dtype=torch.float64))
        return [x.to(dtype).to(device).requires_grad_() for x in (a, b, h0)]

    return make
