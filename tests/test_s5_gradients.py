"""Gradients of s5_scan: torch.autograd.gradcheck in float64/complex128 on small sizes (through
the chunked scan's carries, with the chunk lowered to 4 steps), and complex64 gradients against
a complex128 autograd of the sequential recurrence written out here.

complex64 bound: |g32 − g64| ≤ 64·u32·L·max|g64| per argument (norm-wise: backward through the
scan sums L-long products, so an entry's error is set by the largest entries)."""

import pytest
import torch

from ssmspec.impl import s5

U32 = 2.0**-24


def _inputs(cdtype, L, seed=0, b=2, H=2, P=3):
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
    c = lambda *s: torch.complex(r(*s), r(*s))  # noqa: E731
    rdt = torch.float64 if cdtype == torch.complex128 else torch.float32
    args = dict(u=r(b, L, H).to(rdt), Lambda=torch.complex(-torch.exp(r(P) - 1), 3 * r(P)),
                B=c(P, H), C=c(H, P), D=r(H).to(rdt), log_step=(r(P) - 2).to(rdt), h0=c(b, P))
    return {k: (x.to(cdtype) if x.is_complex() else x).requires_grad_() for k, x in args.items()}


def _call(args, method, conj_sym):
    a = dict(args)
    return s5.s5_scan(a.pop("u"), a.pop("Lambda"), a.pop("B"), a.pop("C"), a.pop("D"),
                      a.pop("log_step"), discretization=method, conj_sym=conj_sym, h0=a["h0"])


@pytest.mark.parametrize("method", s5.METHODS)
@pytest.mark.parametrize("conj_sym", [True, False])
def test_gradcheck_c128(method, conj_sym, monkeypatch):
    monkeypatch.setattr(s5, "CHUNK", 4)  # L = 9: three chunks, one carry level
    args = _inputs(torch.complex128, L=9)
    names = list(args)
    assert torch.autograd.gradcheck(
        lambda *xs: _call(dict(zip(names, xs)), method, conj_sym), tuple(args.values()))


def _sequential(u, Lambda, B, C, D, log_step, h0, method):
    dt = torch.exp(log_step)
    z = dt * Lambda
    if method == "zoh":
        abar, Bbar = torch.exp(z), (torch.expm1(z) / z * dt)[:, None] * B
    else:
        abar, Bbar = (1 + z / 2) / (1 - z / 2), (dt / (1 - z / 2))[:, None] * B
    x, ys = h0, []
    for t in range(u.shape[1]):
        x = abar * x + u[:, t].to(B.dtype) @ Bbar.T
        ys.append(2 * (x @ C.T).real + D * u[:, t])
    return torch.stack(ys, 1)


@pytest.mark.parametrize("method", s5.METHODS)
def test_c64_gradients_match_c128_sequential(method):
    L = 70  # more than two chunks of the built-in's scan
    a32, a64 = _inputs(torch.complex64, L), _inputs(torch.complex128, L)
    w = torch.randn(2, L, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    (_call(a32, method, True) * w.float()).sum().backward()
    (_sequential(**a64, method=method) * w).sum().backward()
    for k in a32:
        g32, g64 = a32[k].grad.to(a64[k].grad.dtype), a64[k].grad
        err = float((g32 - g64).abs().max())
        tol = 64 * U32 * L * float(g64.abs().max())
        assert err <= tol, f"d/d{k}: error {err:.3g} > {tol:.3g}"
