"""S5's MIMO diagonal state-space scan in PyTorch (docs/s5.md): `s5_scan`.

Per batch b, with P states (diagonal Λ), H channels and step t = 0 … L−1:

    Δ_p = exp(log_step_p)                                   (one step per state)
    x_t = Λ̄ ⊙ x_{t−1} + B̄ u_t,      x_{−1} = h0 (default 0)
    y_t = f·Re(C x_t) + D ⊙ u_t,     f = 2 if conj_sym else 1

with (Λ̄, B̄) per state from docs/discretization.md:
- `zoh`:      Λ̄ = exp(ΔΛ),  B̄ = Δ·φ₁(ΔΛ)·B,  φ₁(z) = expm1(z)/z (φ₁(0) = 1);
- `bilinear`: Λ̄ = (1 + ΔΛ/2)/(1 − ΔΛ/2),  B̄ = Δ·B/(1 − ΔΛ/2).

Conventions checked against lindermanlab/S5, `s5/ssm.py`: `apply_ssm` (x_t = Λ̄ x_{t−1} + B̄ u_t by
an associative scan over the (L, H) input; `2·(C̃ x).real` under conj_sym, `(C̃ x).real`
otherwise), `S5SSM.__call__` (+ D ⊙ u, D of shape (H,)), `S5SSM.setup` (step = exp(log_step), one
per state) and `discretize_zoh` / `discretize_bilinear` (the same Λ̄, B̄ as above). One deliberate
difference: S5's `discretize_zoh` forms B̄ as (Λ̄ − 1)/Λ·B after rounding Λ̄ = exp(ΔΛ), which cancels
when |ΔΛ| is small (relative error ~u/|ΔΛ|); here φ₁ goes through expm1 (the difference is the
mutant `s5_official_zoh` of the spec). S5 works on one (L, H) sequence and vmaps over the batch;
ssmspec puts the batch first.

Shapes and dtypes: u (batch, L, H) real; Lambda (P,) complex; B (P, H) and C (H, P) complex,
Lambda's dtype; D (H,) and log_step (P,) real, Lambda's real dtype; h0 (batch, P) complex,
Lambda's dtype. u has Lambda's real dtype (fp64 with complex128, fp32 with complex64), or is
fp16/bf16 with complex64 parameters (then computed in fp32 and rounded once). Returns y
(batch, L, H) in u's dtype; with `return_state` (an ssmspec extension: S5 returns no state, but the
split law needs it, as h0 does) also x_{L−1} (batch, P) in Lambda's dtype.

Algorithm: B̄u_t for every t by two real matrix products (u @ Re B̄ᵀ, u @ Im B̄ᵀ: u is never made
complex), then a chunked scan of the time-invariant recurrence (`_scan`), then y by two real
products. Memory O(batch·L·(P + H)).
"""

from __future__ import annotations

import torch

from ssmspec.impl import _validate as v

METHODS = ("zoh", "bilinear")
CHUNK = 32  # steps per chunk of the scan; read at call time (the gradient test lowers it)


def _flag(name: str, x) -> bool:
    if not isinstance(x, bool):
        raise TypeError(f"{name}: expected a bool, got {type(x).__name__}")
    return x


def check_args(u, Lambda, B, C, D, log_step, h0):
    v.real_tensor("u", u)
    if u.ndim != 3 or min(u.shape) < 1:
        raise ValueError(f"u: expected shape (batch, L, H) with sizes >= 1, got {tuple(u.shape)}")
    batch, _, H = u.shape
    v.tensor("Lambda", Lambda)
    if not Lambda.is_complex():
        raise TypeError(f"Lambda: expected a complex dtype (complex128 or complex64), "
                        f"got {Lambda.dtype}")
    v.same_device("Lambda", Lambda, "u", u)
    rdt = v.real_dtype(Lambda.dtype)
    if u.dtype != rdt and not (u.dtype in v.LOW_PRECISION and rdt == torch.float32):
        raise TypeError(f"u: expected dtype {rdt} (Lambda's real dtype), or float16/bfloat16 "
                        f"with complex64 parameters; got {u.dtype} with Lambda {Lambda.dtype}")
    if Lambda.ndim != 1 or Lambda.shape[0] < 1:
        raise ValueError(f"Lambda: expected shape (P,) with P >= 1, got {tuple(Lambda.shape)}")
    P = Lambda.shape[0]
    for name, x, shape, what in (("B", B, (P, H), "(P, H)"), ("C", C, (H, P), "(H, P)")):
        v.beside(name, x, "Lambda", Lambda, shape, what)
    for name, x, shape, what in (("D", D, (H,), "(H,)"), ("log_step", log_step, (P,), "(P,)")):
        if x is None and name == "D":
            continue
        v.tensor(name, x)
        if x.dtype != rdt:
            raise TypeError(f"{name}: expected dtype {rdt} (Lambda's real dtype), got {x.dtype}")
        v.same_device(name, x, "Lambda", Lambda)
        v.shape(name, x, shape, what)
    if h0 is not None:
        v.beside("h0", h0, "Lambda", Lambda, (batch, P), "(batch, P)")


def phi1(z: torch.Tensor) -> torch.Tensor:
    """φ₁(z) = expm1(z)/z, and 1 + z/2 where |z| < √ε, ε = 2u (there the series' next term,
    |z|²/6, is below u/3).

    The series branch is not only faster: torch's complex division overflows when the divisor is
    subnormal (expm1(z)/z = inf + nan·i for |z| ~ 1e-313 in complex128), which a tiny Λ or Δ
    reaches. The division branch sees a safe z so that neither branch's gradient is NaN.
    """
    small = z.abs() < torch.finfo(z.real.dtype).eps ** 0.5
    safe = torch.where(small, 1.0, z)
    return torch.where(small, 1 + z / 2, torch.expm1(safe) / safe)


def discretize(Lambda: torch.Tensor, B: torch.Tensor, log_step: torch.Tensor, method: str):
    """(Λ̄ (P,), B̄ (P, H)) with Δ = exp(log_step) per state (docs/s5.md#s5_scan)."""
    dt = torch.exp(log_step)
    z = dt * Lambda
    if method == "zoh":
        abar, scale = torch.exp(z), dt * phi1(z)
    else:
        den = 1 - z / 2
        abar, scale = (1 + z / 2) / den, dt / den
    return abar, scale[:, None] * B


def _scan(a: torch.Tensor, b: torch.Tensor, T: int) -> torch.Tensor:
    """x_k = a ⊙ x_{k−1} + b_k (x_{−1} = 0) along dim −2 of b (..., n, P); a (P,) time-invariant.

    Chunks of T steps run in parallel, a Python loop over the T steps inside them; the state
    entering each chunk comes from the same scan over the chunks' end states with a^T as the
    step (recursively, depth log_T n). a^k is an accumulated product, so its error is the
    sequential recurrence's k roundings, not exp(k·log a)'s u·k·|log a|.
    """
    n = b.shape[-2]
    if n <= T:
        x, out = torch.zeros_like(b[..., 0, :]), []
        for k in range(n):
            x = a * x + b[..., k, :]
            out.append(x)
        return torch.stack(out, dim=-2)
    nc = -(-n // T)
    pad = nc * T - n
    if pad:  # padded steps come after the last real one and are dropped: any b will do
        b = torch.cat([b, torch.zeros_like(b[..., :pad, :])], dim=-2)
    b = b.unflatten(-2, (nc, T))  # (..., nc, T, P)
    x = torch.zeros_like(b[..., 0, :])
    p = torch.ones_like(a)
    xs, ps = [], []
    for k in range(T):
        x = a * x + b[..., k, :]
        p = a * p
        xs.append(x)
        ps.append(p)
    local, powers = torch.stack(xs, dim=-2), torch.stack(ps)  # (..., nc, T, P), (T, P)
    ends = _scan(powers[-1], local[..., -1, :], T)  # true state after each chunk
    entering = torch.cat([torch.zeros_like(ends[..., :1, :]), ends[..., :-1, :]], dim=-2)
    out = local + powers * entering[..., None, :]
    return out.flatten(-3, -2)[..., :n, :]


def s5_scan(u: torch.Tensor, Lambda: torch.Tensor, B: torch.Tensor, C: torch.Tensor,
            D: torch.Tensor | None, log_step: torch.Tensor, discretization: str = "zoh",
            conj_sym: bool = True, h0: torch.Tensor | None = None, return_state: bool = False):
    """S5's SSM on a batch of (L, H) sequences; formula, shapes and dtypes: docs/s5.md#s5_scan.

    u (batch, L, H) real; Lambda (P,), B (P, H), C (H, P) complex; D (H,) real or None (no
    feedthrough); log_step (P,) real; h0 (batch, P) complex or None. Returns y (batch, L, H) in
    u's dtype, and with `return_state` (y, x_{L−1} (batch, P) in Lambda's dtype).
    """
    v.method("discretization", discretization, METHODS)
    _flag("conj_sym", conj_sym)
    _flag("return_state", return_state)
    check_args(u, Lambda, B, C, D, log_step, h0)
    abar, Bbar = discretize(Lambda, B, log_step, discretization)
    return apply_ssm(u, abar, Bbar, C, D, conj_sym, h0, return_state)


def apply_ssm(u: torch.Tensor, abar: torch.Tensor, Bbar: torch.Tensor, C: torch.Tensor,
              D: torch.Tensor | None, conj_sym: bool, h0: torch.Tensor | None = None,
              return_state: bool = False):
    """The discrete system (Λ̄ (P,), B̄ (P, H)) run on u (batch, L, H), arguments already checked:
    y (batch, L, H) in u's dtype (and x_{L−1} (batch, P)). S5's `apply_ssm` plus the D·u term."""
    uw = u.to(v.real_dtype(abar.dtype))
    bu = torch.complex(uw @ Bbar.real.T, uw @ Bbar.imag.T)  # (batch, L, P)
    if h0 is not None:  # x_0 = Λ̄ h0 + B̄ u_0: h0 enters as part of the first step's input
        bu = torch.cat([bu[:, :1] + (abar * h0)[:, None], bu[:, 1:]], dim=1)
    x = _scan(abar, bu, CHUNK)
    y = x.real @ C.real.T - x.imag @ C.imag.T
    if conj_sym:
        y = y + y  # exact
    if D is not None:
        y = y + D * uw
    y = y.to(u.dtype)
    return (y, x[:, -1]) if return_state else y
