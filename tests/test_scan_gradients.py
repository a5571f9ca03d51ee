"""Gradients of linear_scan: torch.autograd.gradcheck in fp64 (and c128) for every method, and
fp32 gradients against float64 autograd of the sequential method within a stated bound.

The fp32 bound. For a loss Σ w·h, the gradients are the adjoint scan g_t = w_t + a_{t+1}·g_{t+1}
(run the other way), ∂/∂b_t = g_t, ∂/∂a_t = g_t·h_{t−1}, ∂/∂h0 = a_0·g_0. Each is formed by an
fp32 recurrence of the same length, so with G = L + 2⌈log₂L⌉ + 2 (the largest forward growth of
the tree methods; logspace adds 2Σ|log a| + max|log|x||, as its forward bound):
|Δ∂b_t| ≤ 2·u·G·Mg_t, |Δ∂a_t| ≤ 4·u·G·Mg_t·(M_{t−1} + |h0|), Mg the adjoint scan on absolute
values and M the forward magnitude (the product doubles the constant).
"""

import math

import numpy as np
import pytest
import torch

from ssmspec.impl.scans import METHODS, linear_scan
from ssmspec.reference.np import scans as rnp

U32 = 2.0**-24


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("L", [1, 5, 67])
def test_gradcheck_fp64(method, reverse, L, scan_inputs):
    a, b, h0 = scan_inputs((1, L), torch.float64, seed=L)
    assert torch.autograd.gradcheck(
        lambda a, b, h0: linear_scan(a, b, h0, reverse=reverse, method=method), (a, b, h0))


@pytest.mark.parametrize("method", [m for m in METHODS if m != "logspace"])
@pytest.mark.parametrize("L", [3, 67])
def test_gradcheck_c128(method, L, scan_inputs):
    a, b, h0 = scan_inputs((1, L), torch.complex128, seed=L, complex_=True)
    assert torch.autograd.gradcheck(
        lambda a, b, h0: linear_scan(a, b, h0, method=method), (a, b, h0))


@pytest.mark.parametrize("method", METHODS)
def test_fp32_gradients_within_bound_of_float64_autograd(method, scan_inputs):
    L = 1000
    a64, b64, h64 = scan_inputs((3, L), torch.float64, seed=1)
    a64.data = 0.99 + 0.01 * (a64.data - 0.5) / 0.5  # the hard range [0.99, 1]
    w = torch.randn(3, L, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    a32, b32, h32 = (x.detach().float().requires_grad_() for x in (a64, b64, h64))
    (linear_scan(a64, b64, h64) * w).sum().backward()
    (linear_scan(a32, b32, h32, method=method) * w.float()).sum().backward()
    a, b, h0 = (x.detach().numpy() for x in (a64, b64, h64))
    shifted = np.concatenate([np.abs(a[:, 1:]), np.zeros((3, 1))], axis=1)
    Mg = rnp.magnitude(shifted, np.abs(w.numpy()), reverse=True)
    M = rnp.magnitude(a, b, h0)
    Mprev = np.concatenate([np.abs(h0)[:, None], M[:, :-1]], axis=1)
    G = L + 2 * math.ceil(math.log2(L)) + 2.0
    if method == "logspace":
        lam, beta = rnp.scan_log_terms(a, b, h0)
        G = G + 2 * lam[:, -1:] + beta[:, -1:]
    bounds = {"b": 2 * U32 * G * Mg, "a": 4 * U32 * G * Mg * (Mprev + np.abs(h0)[:, None]),
              "h0": 2 * U32 * G * (Mg[:, 0] * np.abs(a[:, 0]))}
    worst = {}
    for name, x64, x32 in (("a", a64, a32), ("b", b64, b32), ("h0", h64, h32)):
        err = np.abs(x32.grad.double().numpy() - x64.grad.numpy())
        worst[name] = float((err / bounds[name]).max())
    print(f"\n{method}: grad err/bound {worst}")
    assert all(r <= 1 for r in worst.values()), worst
