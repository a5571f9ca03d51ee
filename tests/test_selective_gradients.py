"""Gradients of selective_scan and ssd_scan: torch.autograd.gradcheck in fp64 on small sizes, and
fp32 gradients against a float64 autograd of the sequential recurrence written out here.

fp32 bound: |g32 − g64| ≤ 64·u32·L·(|g|₁-scale) per argument, with the scale the float64
gradient's max norm (a norm-wise statement: backward through the chunked scan sums L-long
products, so the elementwise error of a gradient entry is set by the largest entries)."""

import torch
import torch.nn.functional as F

from ssmspec.impl.selective import selective_scan, ssd_scan

U32 = 2.0**-24


def _selective_inputs(dtype, L=7, complex_a=False, seed=0):
    g = torch.Generator().manual_seed(seed)
    b, D, N = 2, 4, 3
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
    A = -torch.exp(r(D, N))
    if complex_a:
        A = torch.complex(A, r(D, N))
    cd = A.dtype
    B, C = r(b, 2, N, L).to(cd), r(b, 2, N, L).to(cd)
    args = dict(u=r(b, D, L), delta=r(b, D, L) - 1, A=A, B=B, C=C, D=r(D), z=r(b, D, L),
                delta_bias=0.5 * r(D))
    cast = lambda t: t.to(dtype if not t.is_complex() else  # noqa: E731
                          (torch.complex128 if dtype == torch.float64 else torch.complex64))
    return {k: cast(v).requires_grad_() for k, v in args.items()}


def _sequential(u, delta, A, B, C, D, z, delta_bias):
    dt = F.softplus(delta + delta_bias[:, None])
    Bx = B.repeat_interleave(u.shape[1] // B.shape[1], 1)
    Cx = C.repeat_interleave(u.shape[1] // C.shape[1], 1)
    h = torch.zeros(u.shape[0], u.shape[1], A.shape[1], dtype=A.dtype)
    ys = []
    for t in range(u.shape[-1]):
        h = torch.exp(dt[..., t, None] * A) * h + dt[..., t, None] * Bx[..., t] * u[..., t, None]
        y = (Cx[..., t] * h).sum(-1)
        ys.append(2 * y.real if y.is_complex() else y)
    return (torch.stack(ys, -1) + D[:, None] * u) * F.silu(z)


def _call(args):
    a = dict(args)
    return selective_scan(a.pop("u"), a.pop("delta"), a.pop("A"), a.pop("B"), a.pop("C"),
                          delta_softplus=True, **a)


def test_selective_scan_gradcheck_fp64():
    for complex_a in (False, True):
        args = _selective_inputs(torch.float64, L=5, complex_a=complex_a)
        names = list(args)
        assert torch.autograd.gradcheck(
            lambda *xs, names=names: _call(dict(zip(names, xs))), tuple(args.values()))


def test_selective_scan_fp32_gradients_match_float64_sequential():
    L = 70  # more than two chunks of the built-in's scan
    a32 = _selective_inputs(torch.float32, L=L)
    a64 = _selective_inputs(torch.float64, L=L)
    w = torch.randn(2, 4, L, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    (_call(a32) * w.float()).sum().backward()
    (_sequential(**a64) * w).sum().backward()
    for k in a32:
        g32, g64 = a32[k].grad.to(torch.float64), a64[k].grad
        err = float((g32 - g64).abs().max())
        tol = 64 * U32 * L * float(g64.abs().max())
        assert err <= tol, f"d/d{k}: error {err:.3g} > {tol:.3g}"


def _ssd_inputs(dtype, L=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
    args = dict(x=r(2, L, 2, 2), dt=torch.exp(r(2, L, 2) - 1), A=-torch.exp(r(2)),
                B=r(2, L, 1, 3), C=r(2, L, 1, 3))
    return {k: v.to(dtype).requires_grad_() for k, v in args.items()}


def test_ssd_scan_gradcheck_fp64():
    args = _ssd_inputs(torch.float64, L=5)  # one full chunk of 4 and a padded one
    names = list(args)
    assert torch.autograd.gradcheck(
        lambda *xs: ssd_scan(*xs, chunk_size=4), tuple(args[k] for k in names))


def test_ssd_scan_fp32_gradients_match_float64_selective_sequential():
    L = 40
    a32, a64 = _ssd_inputs(torch.float32, L), _ssd_inputs(torch.float64, L)
    ssd_scan(**a32, chunk_size=16).sum().backward()
    x, dt, A, B, C = (a64[k] for k in ("x", "dt", "A", "B", "C"))
    h = torch.zeros(2, 2, 2, 3, dtype=torch.float64)
    ys = []
    for t in range(L):
        h = (torch.exp(dt[:, t, :, None, None] * A[:, None, None]) * h
             + (dt[:, t, :, None] * x[:, t])[..., None] * B[:, t, :, None, :])
        ys.append((h * C[:, t, :, None, :]).sum(-1))
    torch.stack(ys, 1).sum().backward()
    for k in a32:
        g32, g64 = a32[k].grad.to(torch.float64), a64[k].grad
        err = float((g32 - g64).abs().max())
        tol = 64 * U32 * L * float(g64.abs().max())
        assert err <= tol, f"d/d{k}: error {err:.3g} > {tol:.3g}"
