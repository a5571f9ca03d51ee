"""HiPPO matrices, their NPLR form and the S4D diagonal initialisations in float64/complex128
(docs/hippo.md), and the magnitudes of their error bounds.

Same conventions as `ssmspec.reference.mp.hippo` (which states them in full and is the gold
standard); this tier serves the large sizes (N = 256) and computes the magnitudes M of the bounds.
The NPLR form uses `numpy.linalg.eigh` on the Hermitian −i·K, K the skew part of A + P Pᵀ.

Results are cached per (measure, N) and returned as read-only arrays: they are constants.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

MEASURES = ("legs", "legt", "lagt", "fout")
INITS = ("s4d-legs", "s4d-lin", "s4d-inv", "s4d-real", "random")


def check_measure(measure: str, N: int) -> None:
    if measure not in MEASURES:
        raise ValueError(f"measure: expected one of {list(MEASURES)}, got {measure!r}")
    if isinstance(N, bool) or not isinstance(N, int | np.integer) or N < 1:
        raise ValueError(f"N: expected an integer N >= 1, got {N!r}")
    if measure == "fout" and N % 2:
        raise ValueError(f"N: fout pairs cos/sin states, so N must be even, got {N}")


def shift(measure: str) -> float:
    """c in A + P Pᵀ = c·I + K (K skew): −½ for legs, 0 for the translated measures."""
    return -0.5 if measure == "legs" else 0.0


def _frozen(*arrays):
    for a in arrays:
        a.setflags(write=False)
    return arrays if len(arrays) > 1 else arrays[0]


@functools.cache
def hippo(measure: str, N: int):
    """(A (N, N), B (N,)) float64; the formulas are in `ssmspec.reference.mp.hippo.hippo`."""
    check_measure(measure, N)
    n = np.arange(N, dtype=np.float64)
    row, col = n[:, None], n[None, :]
    r = np.sqrt(2 * n + 1)
    if measure == "legs":
        A = np.where(row > col, -np.sqrt((2 * row + 1) * (2 * col + 1)), 0.0)
        A = A - np.diag(n + 1)
        B = r
    elif measure == "legt":
        sign = np.where(row >= col, 1.0, (-1.0) ** (row - col))
        A = -0.5 * sign * np.sqrt((2 * row + 1) * (2 * col + 1))
        B = 0.5 * r
    elif measure == "lagt":
        A = 0.5 * np.eye(N) - np.tril(np.ones((N, N)))
        B = np.ones(N)
    else:  # fout
        B = fout_b(N)
        k = np.arange(N) // 2
        A = np.zeros((N, N))
        even = np.arange(0, N, 2)
        A[even, even + 1] = -np.pi * k[even]
        A[even + 1, even] = np.pi * k[even]
        A = A - np.outer(B, B)
    return _frozen(np.ascontiguousarray(A), np.ascontiguousarray(B))


def fout_b(N: int) -> np.ndarray:
    """FouT's B (= its rank correction): 1 at the DC state, √2 at each cosine, 0 at each sine."""
    B = np.zeros(N)
    B[0::2] = np.sqrt(2.0)
    B[0] = 1.0
    return B


@functools.cache
def rank_correction(measure: str, N: int) -> np.ndarray:
    """P (r, N) with A + Pᵀ·P = c·I + skew (see `ssmspec.reference.mp.hippo.rank_correction`)."""
    check_measure(measure, N)
    n = np.arange(N, dtype=np.float64)
    if measure == "legs":
        P = np.sqrt(n + 0.5)[None]
    elif measure == "legt":
        r = np.sqrt(n + 0.5)  # √(2n+1)/√2
        P = np.stack([np.where(n % 2 == 0, r, 0.0), np.where(n % 2 == 1, r, 0.0)])
    elif measure == "lagt":
        P = np.full((1, N), np.sqrt(0.5))
    else:
        P = fout_b(N)[None]
    return _frozen(np.ascontiguousarray(P))


def skew_part(measure: str, N: int) -> np.ndarray:
    """K = A + Pᵀ P − c·I, made exactly skew (its symmetric part is rounding)."""
    A, _ = hippo(measure, N)
    P = rank_correction(measure, N)
    S = A + P.T @ P
    return (S - S.T) / 2


def null_tolerance(K: np.ndarray) -> float:
    """|μ| below this is a zero eigenvalue of −iK (FouT's DC/dead-sine pair is exactly 0)."""
    n = K.shape[-1]
    return 64.0 * n * np.finfo(np.float64).eps * max(1.0, float(np.abs(K).sum(0).max()))


def half_from_eigh(mu: np.ndarray, W: np.ndarray, tol: float):
    """The conjugate half of −iK's eigendecomposition, chosen by sign.

    Keeps the eigenvectors with μ > tol, and for the null space (|μ| ≤ tol, which for a real
    skew K is spanned by real vectors and has the parity of N) a real orthonormal basis
    x₁, y₁, x₂, y₂, … paired as (x + i·y)/√2, so that each kept v and its conjugate v̄ are
    orthonormal. Returns (μ kept (N/2,) ascending, V (N, N/2)).
    """
    zero = np.abs(mu) <= tol
    nz = int(zero.sum())
    if nz % 2:
        raise ValueError(f"N: the null space of the skew part has odd dimension {nz}")
    pos = mu > tol
    vs, ms = [], []
    if nz:
        W0 = W[:, zero]
        U, _, _ = np.linalg.svd(np.concatenate([W0.real, W0.imag], axis=1))
        X = U[:, :nz]
        vs.append((X[:, 0::2] + 1j * X[:, 1::2]) / np.sqrt(2.0))
        ms.append(np.zeros(nz // 2))
    vs.append(W[:, pos])
    ms.append(mu[pos])
    return np.concatenate(ms), np.concatenate(vs, axis=1)


def orthonormalize(V: np.ndarray) -> np.ndarray:
    """V_full = [V, V̄] made unitary to working precision: the polar factor of the real basis
    X = √2·[Re V, Im V]. eigh's vectors for μ and −μ are computed independently, so v ⊥ v̄ holds
    only to ~u‖K‖/(2μ); the polar factor moves the columns by that much, within the invariant
    subspaces of the ± pairs, and leaves Re(VΛV*) accurate to O(u‖K‖)."""
    m = V.shape[1]
    X = np.sqrt(2.0) * np.concatenate([V.real, V.imag], axis=1)
    U, _, Wh = np.linalg.svd(X)
    X = U @ Wh
    return (X[:, :m] + 1j * X[:, m:]) / np.sqrt(2.0)


@functools.cache
def nplr(measure: str, N: int):
    """(Λ (N/2,), P̃ (r, N/2), B̃ (N/2,), V (N, N/2)) complex128, Λ in ascending Im Λ.

    Λ = c + i·μ for the kept μ of eigh(−iK), V made unitary in the full form (`orthonormalize`);
    P̃ = V* P, B̃ = V* B (rows of P̃ per rank).
    """
    check_measure(measure, N)
    if N % 2:
        raise ValueError(f"N: the conjugate-half form needs even N, got {N}")
    K = skew_part(measure, N)
    mu, W = np.linalg.eigh(-1j * K)
    m, V = half_from_eigh(mu, W, null_tolerance(K))
    V = orthonormalize(V)
    lam = shift(measure) + 1j * m
    _, B = hippo(measure, N)
    P = rank_correction(measure, N)
    Vh = V.conj().T
    return _frozen(lam, P @ V.conj(), Vh @ B, V)


def invariants(lam, Pt, Bt, V) -> dict:
    """The phase-invariant outputs of an NPLR form (what the nplr spec compares).

    Lambda (N/2,) sorted by Im Λ; A = 2Re(VΛV*) − P Pᵀ with P = 2Re(V P̃) (the full form, both
    members of each conjugate pair); B = 2Re(V B̃); P (r, N); PB[a, n] = P̃_an·conj(B̃_n);
    PP[a, b, n] = P̃_an·conj(P̃_bn); VV = V_full* V_full (N, N). All complex128.
    """
    order = np.argsort(lam.imag, kind="stable")
    lam, Pt, Bt, V = lam[order], Pt[:, order], Bt[order], V[:, order]
    P = 2 * (Pt @ V.T).real
    normal = 2 * ((V * lam) @ V.conj().T).real
    A = normal - P.T @ P
    B = 2 * (V @ Bt).real
    return {
        "Lambda": lam,
        "A": A.astype(np.complex128),
        "B": B.astype(np.complex128),
        "P": P.astype(np.complex128),
        "PB": Pt * Bt.conj(),
        "PP": Pt[:, None, :] * Pt[None, :, :].conj(),
        "VV": gram(V),
    }


def gram(V: np.ndarray) -> np.ndarray:
    """V_full* V_full for V_full = [V, V̄] (N, N): the identity for an exact NPLR form."""
    Vf = np.concatenate([V, V.conj()], axis=1)
    return Vf.conj().T @ Vf


def exact_invariants(measure: str, N: int) -> dict:
    """The invariants the exact decomposition has: A, B, P themselves, and Λ, PB, PP of `nplr`."""
    A, B = hippo(measure, N)
    out = invariants(*nplr(measure, N))
    out["A"] = A.astype(np.complex128)
    out["B"] = B.astype(np.complex128)
    out["P"] = rank_correction(measure, N).astype(np.complex128)
    out["VV"] = np.eye(N, dtype=np.complex128)
    return out


# --- magnitudes of the bounds (docs/error-model.md) -----------------------------------------------


def hippo_magnitude(measure: str, N: int) -> dict:
    """|A|, |B|: each entry is one or two roundings of its exact value (sqrt of an exact integer
    product, or π·k), so M is the value itself."""
    A, B = hippo(measure, N)
    return {"A": np.abs(A), "B": np.abs(B)}


@functools.cache
def _spectral(measure: str, N: int):
    """‖K‖₂ and, per kept state, the gap from its μ to the rest of −iK's spectrum (the pair
    member −μ included, its own null-space cluster excluded)."""
    K = skew_part(measure, N)
    mu = np.linalg.eigvalsh(-1j * K)
    tol = null_tolerance(K)
    lam, _, _, _ = nplr(measure, N)
    kept = np.sort(lam.imag)
    gaps = np.empty(len(kept))
    for i, m in enumerate(kept):
        others = mu[np.abs(mu - m) > tol] if m > tol else mu[np.abs(mu) > tol]
        gaps[i] = np.min(np.abs(others - m)) if others.size else np.inf
    return float(np.max(np.abs(mu), initial=0.0)), gaps


def nplr_magnitude(measure: str, N: int) -> dict:
    """M for the nplr invariants (the growth g = N, eigh's backward error, is applied apart).

    eigh is backward stable: it diagonalises K + E with ‖E‖₂ ≲ p(N)·u·‖K‖₂. Hence
    - Lambda: |δμ| ≤ ‖E‖₂ (Weyl), M = ‖K‖₂ + |c| for every entry;
    - A (Frobenius, per matrix): the reconstruction is A + E plus the rounding of the products
      2Re(VΛV*) and P Pᵀ, M = ‖ |K| ‖_F + |c|·√N + ‖ |P|ᵀ|P| ‖_F;
    - B, P: 2Re(V V* b) = b + O(‖δV‖)·‖b‖, M = ‖b‖₂ per vector;
    - PB, PP: a kept eigenvector moves by ‖E‖₂/gap_n (Davis–Kahan), so
      M_n = ‖p‖₂‖q‖₂·(1 + ‖K‖₂/gap_n) for the pair of vectors (p, q) the product projects.
    """
    A, B = hippo(measure, N)
    P = rank_correction(measure, N)
    K = skew_part(measure, N)
    c = abs(shift(measure))
    knorm, gaps = _spectral(measure, N)
    amp = 1 + knorm / gaps
    pn = np.linalg.norm(P, axis=1)
    bn = np.linalg.norm(B)
    r = P.shape[0]
    return {
        "Lambda": np.full(N // 2, knorm + c),
        "A": np.array(np.linalg.norm(np.abs(K)) + c * np.sqrt(N)
                      + np.linalg.norm(np.abs(P).T @ np.abs(P))),
        "B": np.full(N, bn),
        "P": np.broadcast_to(pn[:, None], (r, N)).copy(),
        "PB": pn[:, None] * bn * amp[None, :],
        "PP": pn[:, None, None] * pn[None, :, None] * amp[None, None, :],
    }


# --- diagonal initialisations -------------------------------------------------------------------


def draws(name: str, N: int, H: int, seed: int) -> dict:
    """The random numbers of `diag_init`, in the order the contract fixes (float64, CPU):

        g = torch.Generator("cpu").manual_seed(seed)
        u  = torch.rand(H, generator=g, dtype=float64)            # Δ
        zc = torch.randn(H, N//2, 2, generator=g, dtype=float64)  # C = (zc₀ + i·zc₁)/√2
        zl = torch.randn(H, N//2, 2, generator=g, dtype=float64)  # 'random' only: Λ

    Every implementation draws exactly these (on the CPU, whatever the target device), so that
    the reference and the implementation see the same numbers and only the formulas are compared.
    """
    g = torch.Generator("cpu").manual_seed(int(seed))
    out = {
        "u": torch.rand(H, generator=g, dtype=torch.float64).numpy(),
        "zc": torch.randn(H, N // 2, 2, generator=g, dtype=torch.float64).numpy(),
    }
    if name == "random":
        out["zl"] = torch.randn(H, N // 2, 2, generator=g, dtype=torch.float64).numpy()
    return out


def check_init(name: str, N: int, H: int, dt_min: float, dt_max: float) -> None:
    if name not in INITS:
        raise ValueError(f"name: expected one of {list(INITS)}, got {name!r}")
    if isinstance(N, bool) or not isinstance(N, int | np.integer) or N < 1 or N % 2:
        raise ValueError(f"N: expected an even integer N >= 2 (N/2 conjugate pairs), got {N!r}")
    if isinstance(H, bool) or not isinstance(H, int | np.integer) or H < 1:
        raise ValueError(f"H: expected an integer H >= 1, got {H!r}")
    if not dt_min > 0:
        raise ValueError(f"dt_min: expected dt_min > 0, got {dt_min!r}")
    if not dt_max >= dt_min:
        raise ValueError(f"dt_min: expected dt_min <= dt_max, got {dt_min!r} > {dt_max!r}")


def diag_lambda(name: str, N: int, d: dict) -> np.ndarray:
    """Λ (H, N/2) complex128 (formulas in `ssmspec.reference.mp.hippo.diag_init`)."""
    H = d["u"].shape[0]
    n = np.arange(N // 2, dtype=np.float64)
    if name == "s4d-legs":
        lam = nplr("legs", N)[0]
    elif name == "s4d-lin":
        lam = -0.5 + 1j * np.pi * n
    elif name == "s4d-inv":
        lam = -0.5 + 1j * (N / np.pi) * (N / (2 * n + 1) - 1)
    elif name == "s4d-real":
        lam = -(n + 1) + 0j
    else:
        zl = d["zl"]
        return -np.exp(zl[..., 0]) + 1j * np.exp(zl[..., 1])
    return np.broadcast_to(lam, (H, N // 2)).astype(np.complex128)


def diag_init(name: str, N: int, H: int, dt_min: float, dt_max: float, seed: int) -> dict:
    """Λ, B, C (H, N/2) complex128, log_dt (H,) float64."""
    check_init(name, N, H, dt_min, dt_max)
    d = draws(name, N, H, seed)
    lo, hi = np.log(dt_min), np.log(dt_max)
    return {
        "Lambda": diag_lambda(name, N, d),
        "B": np.ones((H, N // 2), dtype=np.complex128),
        "C": (d["zc"][..., 0] + 1j * d["zc"][..., 1]) * np.sqrt(0.5),
        "log_dt": lo + d["u"] * (hi - lo),
    }


def diag_init_magnitude(name: str, N: int, H: int, dt_min: float, dt_max: float,
                        seed: int) -> dict:
    """M for diag_init's outputs, elementwise.

    Lambda: for s4d-legs the eigenvalue bound of nplr (‖K‖₂ + ½, growth N applied apart); for the
    closed forms the terms on absolute values (½ + π·n, ½ + (N/π)(N/(2n+1) + 1), n + 1, and
    e^{z₀} + e^{z₁}). C: |C|. log_dt: |log dt_min| + u·(|log dt_max| + |log dt_min|).
    """
    d = draws(name, N, H, seed)
    n = np.arange(N // 2, dtype=np.float64)
    if name == "s4d-legs":
        ml = np.full(N // 2, _spectral("legs", N)[0] + 0.5)
    elif name == "s4d-lin":
        ml = 0.5 + np.pi * n
    elif name == "s4d-inv":
        ml = 0.5 + (N / np.pi) * (N / (2 * n + 1) + 1)
    elif name == "s4d-real":
        ml = n + 1
    else:
        ml = np.exp(d["zl"][..., 0]) + np.exp(d["zl"][..., 1])
    lo, hi = abs(np.log(dt_min)), abs(np.log(dt_max))
    zc = d["zc"]
    return {
        "Lambda": np.broadcast_to(ml, (H, N // 2)),
        "B": np.ones((H, N // 2)),
        "C": np.hypot(zc[..., 0], zc[..., 1]) * np.sqrt(0.5),
        "log_dt": lo + d["u"] * (hi + lo),
    }
