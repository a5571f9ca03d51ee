"""HiPPO matrices, their NPLR form and the S4D diagonal initialisations, in PyTorch
(docs/hippo.md). Device-agnostic: everything is built on the requested device.

Conventions (S4's sign convention, A stable; S4's `transition()`/`rank_correction()` in
state-spaces/s4, src/models/hippo/hippo.py, the version that halves LegT), n, k = 0 … N−1:

- legs: A[n, k] = −√((2n+1)(2k+1)) (n > k), −(n+1) (n = k), 0 (n < k); B = √(2n+1);
  P = √(n+½) (rank 1).
- legt: A[n, k] = −½√((2n+1)(2k+1))·(1 if n ≥ k else (−1)^(n−k)); B = ½√(2n+1); P = √(n+½)
  split by the parity of n (rank 2).
- lagt: A = ½I − tril(ones); B = ones; P = √½·ones (rank 1).
- fout (N even): A = Ω − B Bᵀ with Ω[2k, 2k+1] = −πk = −Ω[2k+1, 2k]; B = (1, 0, √2, 0, √2, …);
  P = B (rank 1).

A + Pᵀ P = c·I + K, K skew, c = −½ (legs) or 0. NPLR (S4's `nplr`): eigh of the Hermitian −iK
(in float64, cast at the end as S4 users do) gives Λ = c + i·μ, V unitary; the half kept is chosen
by the sign of μ (μ > 0, ascending), plus one member (x + i·y)/√2 per pair of K's real null space
(FouT's DC/dead-sine pair); V_full = [V, V̄] is then made unitary to working precision (the polar
factor of its real basis, see `_orthonormalize`); P̃ = V* P, B̃ = V* B. The full system is
A = 2Re(VΛV*) − Pᵀ P.

S4D initialisations (S4D paper §4; S4's `dplr()`): s4d-legs Λ = nplr('legs').Λ, s4d-lin
−½ + iπn, s4d-inv −½ + i(N/π)(N/(2n+1) − 1), s4d-real −(n+1) (N/2 states stored complex, S4's
code), random −exp(zl₀) + i·exp(zl₁); B = 1; C = (zc₀ + i·zc₁)/√2; log Δ uniform in
[log dt_min, log dt_max]. The random numbers are drawn from torch's CPU generator seeded with
`seed`, in this order: u = rand(H), zc = randn(H, N/2, 2), zl = randn(H, N/2, 2) (random only),
all float64, then moved to the device: the same values on every device.
"""

from __future__ import annotations

import math

import torch

from ssmspec.impl import _validate as v

MEASURES = ("legs", "legt", "lagt", "fout")
INITS = ("s4d-legs", "s4d-lin", "s4d-inv", "s4d-real", "random")
_REAL = (torch.float64, torch.float32)
_COMPLEX = (torch.complex128, torch.complex64)


def _size(name: str, value, even: bool = False) -> int:
    v.positive_int(name, value)
    if even and value % 2:
        raise ValueError(f"{name}: the conjugate-half form pairs states, so {name} must be even, "
                         f"got {value}")
    return value


def _check(measure, N, dtype, allowed) -> None:
    if measure not in MEASURES:
        raise ValueError(f"measure: expected one of {list(MEASURES)}, got {measure!r}")
    _size("N", N, even=measure == "fout")
    if dtype not in allowed:
        raise TypeError(f"dtype: expected one of {list(allowed)}, got {dtype}")


def _fout_b(N: int, device) -> torch.Tensor:
    B = torch.zeros(N, dtype=torch.float64, device=device)
    B[0::2] = math.sqrt(2.0)
    B[0] = 1.0
    return B


def hippo64(measure: str, N: int, device):
    """(A (N, N), B (N,)) of `measure` in float64 on `device` (what `hippo` rounds once)."""
    n = torch.arange(N, dtype=torch.float64, device=device)
    row, col = n[:, None], n[None, :]
    # sqrt of the exact integer product: one rounding per entry (not √a·√b, two and a product)
    root = torch.sqrt((2 * row + 1) * (2 * col + 1))
    if measure == "legs":
        A = torch.where(row > col, -root, 0.0) - torch.diag(n + 1)
        B = torch.sqrt(2 * n + 1)
    elif measure == "legt":
        sign = torch.where(row >= col, 1.0, 1.0 - 2.0 * ((row - col) % 2))
        A = -0.5 * sign * root
        B = 0.5 * torch.sqrt(2 * n + 1)
    elif measure == "lagt":
        A = 0.5 * torch.eye(N, dtype=torch.float64, device=device) - torch.tril(
            torch.ones(N, N, dtype=torch.float64, device=device))
        B = torch.ones(N, dtype=torch.float64, device=device)
    else:
        B = _fout_b(N, device)
        even = torch.arange(0, N, 2, device=device)
        freq = math.pi * (even // 2).to(torch.float64)
        A = -torch.outer(B, B)
        A[even, even + 1] -= freq
        A[even + 1, even] += freq
    return A, B


def correction64(measure: str, N: int, device) -> torch.Tensor:
    """The rank correction P (r, N) of `measure` in float64 on `device`."""
    n = torch.arange(N, dtype=torch.float64, device=device)
    if measure == "legs":
        return torch.sqrt(n + 0.5)[None]
    if measure == "legt":
        r = torch.sqrt(n + 0.5)  # √(2n+1)/√2: S4 halves the rank correction with A
        odd = (torch.arange(N, device=device) % 2).bool()
        return torch.stack([torch.where(odd, 0.0, r), torch.where(odd, r, 0.0)])
    if measure == "lagt":
        return torch.full((1, N), math.sqrt(0.5), dtype=torch.float64, device=device)
    return _fout_b(N, device)[None]


def hippo(measure: str, N: int, *, dtype: torch.dtype = torch.float64, device=None):
    """(A (N, N), B (N,)) of a HiPPO measure, in `dtype` (float64 or float32) on `device`.

    Built in float64 and rounded once to `dtype`. fout needs even N.
    """
    _check(measure, N, dtype, _REAL)
    A, B = hippo64(measure, N, device)
    return A.to(dtype), B.to(dtype)


def rank_correction(measure: str, N: int, *, dtype: torch.dtype = torch.float64, device=None):
    """P (r, N), r = 2 for legt and 1 otherwise, with A + Pᵀ P = c·I + skew."""
    _check(measure, N, dtype, _REAL)
    return correction64(measure, N, device).to(dtype)


def _null_tolerance(K: torch.Tensor) -> float:
    n = K.shape[-1]
    return 64.0 * n * torch.finfo(torch.float64).eps * max(
        1.0, float(K.abs().sum(0).max()))


def _half(mu: torch.Tensor, W: torch.Tensor, tol: float):
    """Keep μ > tol (eigh's ascending order) and pair the real null space as (x + i·y)/√2."""
    zero = mu.abs() <= tol
    nz = int(zero.sum())
    if nz % 2:  # a real skew matrix of even order has a null space of even dimension
        raise ValueError(f"N: the null space of the skew part has odd dimension {nz}")
    keep_mu, keep_v = [mu[mu > tol]], [W[:, mu > tol]]
    if nz:
        W0 = W[:, zero]
        # The null space of a real matrix is spanned by real vectors: Re and Im of eigh's basis
        # span it; the leading left singular vectors are a real orthonormal basis of it.
        U, _, _ = torch.linalg.svd(torch.cat([W0.real, W0.imag], dim=1))
        X = U[:, :nz]
        pairs = torch.complex(X[:, 0::2], X[:, 1::2]) / math.sqrt(2.0)
        keep_v.insert(0, pairs)
        keep_mu.insert(0, mu.new_zeros(nz // 2))
    return torch.cat(keep_mu), torch.cat(keep_v, dim=1)


def _orthonormalize(mu: torch.Tensor, V: torch.Tensor):
    """Make V_full = [V, V̄] unitary to working precision, as the polar factor of its real basis.

    eigh computes the eigenvectors of μ and −μ independently, so a kept v is orthogonal to v̄
    (the exact eigenvector of −μ) only to ~u·‖K‖/(2μ): 300·u·N at N = 256 for legs, whose
    smallest |μ| is 0.2 against ‖K‖ ~ 2·10⁴. The columns x = √2·Re v, y = √2·Im v of all kept v
    span R^N and should be orthonormal; the polar factor X(XᵀX)^(−1/2) is the nearest orthonormal
    basis. It moves each column by O(‖XᵀX − I‖), mixing mostly x with y of the same pair (which
    spans an invariant subspace), so Re(VΛV*) moves by O(u‖K‖) only: the reconstruction keeps its
    accuracy and the orthogonality becomes ~u·N.
    """
    m = V.shape[1]
    X = math.sqrt(2.0) * torch.cat([V.real, V.imag], dim=1)
    U, _, Wh = torch.linalg.svd(X)
    X = U @ Wh
    return mu, torch.complex(X[:, :m], X[:, m:]) / math.sqrt(2.0)


def nplr(measure: str, N: int, *, dtype: torch.dtype = torch.complex128, device=None):
    """The NPLR form in the conjugate half: Λ (N/2,), P̃ (r, N/2), B̃ (N/2,), V (N, N/2).

    Computed in float64/complex128 on the CPU, cast to `dtype` (complex128 or complex64) and moved
    to `device`. N must be even. Λ is in ascending Im Λ (≥ 0); V has orthonormal columns,
    orthogonal to their conjugates.
    """
    _check(measure, N, dtype, _COMPLEX)
    _size("N", N, even=True)
    # The decomposition runs on the CPU (LAPACK) whatever `device` is, and only its results move.
    # Measured on an H200 (torch 2.11): cuSOLVER's eigh is as good as LAPACK's, but the default
    # CUDA SVD (Jacobi) gives a polar factor orthonormal only to 14·u·N (N = 8) … 537·u·N
    # (N = 256), which failed the fp64 bound (VV 9×–67×, the reconstruction 4.7×). An
    # initialisation runs once (S4 also builds its NPLR form on the CPU).
    A, B = hippo64(measure, N, "cpu")
    P = correction64(measure, N, "cpu")
    S = A + P.T @ P
    # The symmetric part of S is c·I exactly (a law of the measure); take the skew part so that
    # −iK is Hermitian to the last bit and eigh sees no rounding asymmetry.
    K = (S - S.T) / 2
    mu, W = torch.linalg.eigh(-1j * K.to(torch.complex128))
    mu, V = _orthonormalize(*_half(mu, W, _null_tolerance(K)))
    c = -0.5 if measure == "legs" else 0.0
    lam = torch.complex(torch.full_like(mu, c), mu)
    Vh = V.conj().T
    Pt = (Vh @ P.T.to(V.dtype)).T
    Bt = Vh @ B.to(V.dtype)
    return tuple(x.to(dtype).to(device) for x in (lam, Pt, Bt, V))


def diag_init(name: str, N: int, H: int = 1, dt_min: float = 1e-3, dt_max: float = 1e-1,
              seed: int = 0, *, dtype: torch.dtype = torch.complex128, device=None):
    """(Λ, B, C (H, N/2) in `dtype`, log_dt (H,) in its real dtype) of an S4D initialisation.

    name: s4d-legs, s4d-lin, s4d-inv, s4d-real or random (formulas in the module docstring);
    N even (N/2 conjugate pairs); Δ = exp(log_dt) log-uniform in [dt_min, dt_max].
    """
    if name not in INITS:
        raise ValueError(f"name: expected one of {list(INITS)}, got {name!r}")
    _size("N", N, even=True)
    _size("H", H)
    for arg, x in (("dt_min", dt_min), ("dt_max", dt_max)):
        if isinstance(x, bool) or not isinstance(x, int | float):
            raise TypeError(f"{arg}: expected a float, got {type(x).__name__}")
    if not dt_min > 0:
        raise ValueError(f"dt_min: expected dt_min > 0, got {dt_min!r}")
    if not dt_max >= dt_min:
        raise ValueError(f"dt_min: expected dt_min <= dt_max, got {dt_min!r} > {dt_max!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed: expected an int, got {type(seed).__name__}")
    if dtype not in _COMPLEX:
        raise TypeError(f"dtype: expected one of {list(_COMPLEX)}, got {dtype}")
    M = N // 2
    g = torch.Generator("cpu").manual_seed(seed)
    u = torch.rand(H, generator=g, dtype=torch.float64).to(device)
    zc = torch.randn(H, M, 2, generator=g, dtype=torch.float64).to(device)
    n = torch.arange(M, dtype=torch.float64, device=device)
    if name == "s4d-legs":
        lam = nplr("legs", N, device=device)[0].expand(H, M)
    elif name == "random":
        zl = torch.randn(H, M, 2, generator=g, dtype=torch.float64).to(device)
        lam = torch.complex(-torch.exp(zl[..., 0]), torch.exp(zl[..., 1]))
    else:
        if name == "s4d-lin":
            re, im = torch.full_like(n, -0.5), math.pi * n
        elif name == "s4d-inv":
            re, im = torch.full_like(n, -0.5), (N / math.pi) * (N / (2 * n + 1) - 1)
        else:  # s4d-real
            re, im = -(n + 1), torch.zeros_like(n)
        lam = torch.complex(re, im).expand(H, M)
    lo, hi = math.log(dt_min), math.log(dt_max)
    # clamp: u·(hi − lo) + lo may round past hi when u is within an ulp of 1
    log_dt = (lo + u * (hi - lo)).clamp(lo, hi)
    C = torch.complex(zc[..., 0], zc[..., 1]) * math.sqrt(0.5)
    B = torch.ones(H, M, dtype=dtype, device=device)
    real = torch.float64 if dtype == torch.complex128 else torch.float32
    return lam.to(dtype).contiguous(), B, C.to(dtype), log_dt.to(real)
