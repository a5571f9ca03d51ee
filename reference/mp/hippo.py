"""HiPPO matrices, their NPLR form and the S4D diagonal initialisations, in mpmath
(docs/hippo.md). Object arrays of mpf/mpc at `DPS` digits; results cached per size (they are
constants).

Sign convention (S4's): the state equation is x' = A x + B u with A stable. Conventions follow
S4's `transition()` and `rank_correction()` (state-spaces/s4, src/models/hippo/hippo.py, the
version that halves LegT); n, k = 0 … N−1 index rows and columns.

**legs** (scaled Legendre; HiPPO paper §3, Gu et al. 2020)::

    A[n, k] = −√((2n+1)(2k+1))  (n > k),   −(n+1)  (n = k),   0  (n < k)
    B[n]    = √(2n+1)
    P[n]    = √(n + ½)                      A + P Pᵀ = −½·I + skew

  The ODE c' = (1/t)(A c + B f) keeps c(t) equal to the coefficients of f on [0, t] in the basis
  √(2n+1)·P_n(2s/t − 1) under ds/t (the projection law).

**legt** (translated Legendre, window θ = 2: S4 halves the HiPPO paper's θ = 1 matrices "for
timescale correctness")::

    A[n, k] = −½·√((2n+1)(2k+1)) · (1 if n ≥ k else (−1)^(n−k)),   B[n] = ½·√(2n+1)
    P = [P_even; P_odd] (rank 2),  P_even[n] = √(n+½) for even n (else 0), P_odd likewise
    A + Pᵀ P = skew

  c(t) = ½∫₀² f(t − x)·√(2n+1)·P_n(1 − x) dx, the newest point at P_n(1) = 1; for f on the
  window in the span of the first N Legendre polynomials the HiPPO ODE c' = A c + B f(t) is exact.

**lagt** (translated Laguerre, S4's "tilted" normalisation)::

    A = ½·I − tril(ones),   B = ones,   P = √½·ones (rank 1),   A + Pᵀ P = skew

  c_n(t) = ∫₀^∞ f(t − x)·L_n(x)·e^{−x/2} dx, the Laguerre *functions* L_n(x)e^{−x/2} being
  orthonormal in L²[0, ∞); exact for every f (L_n' = −Σ_{k<n} L_k).

**fout** (translated Fourier, S4's 'fout'/'fourier'; N even)::

    states (2k, 2k+1) = (cos, sin) of frequency π·k, k = 0 … N/2−1 (state 1, sin 0, is dead)
    B = [1, 0, √2, 0, √2, 0, …],   A = Ω − B Bᵀ,   Ω[2k, 2k+1] = −πk,  Ω[2k+1, 2k] = πk
    P = B (rank 1),   A + Pᵀ P = Ω (skew)

  c(t) = ½∫₀² f(t − x)·g(x) dx with g = (1, √2 cos πkx, √2 sin πkx): the window is θ = 2 and
  the term −B Bᵀc stands for the other endpoint f(t − 2), read off the Fourier series at its
  jump, where it converges to the mean (f(t) + f(t − 2))/2. Exact for f(s) = s (whose window
  function minus that mean is odd about the jump) and for cos/sin(πms), m < N/2.

**NPLR** (S4's `nplr`, conjugate half kept by sign): S = A + Pᵀ P = c·I + K with c = −½ (legs)
or 0, K real skew; eigh of the Hermitian −iK gives μ, W; Λ = c + i·μ, V unitary. Kept: the
μ > 0 half in ascending order, preceded by one member per pair of the null space of K (FouT's
DC/dead-sine pair: Im Λ = 0) written as (x + i·y)/√2 with x, y real orthonormal so that v and v̄
are orthonormal; P̃ = V* P, B̃ = V* B. N must be even. The full form is V_full = [V, V̄],
Λ_full = [Λ, Λ̄]: A = 2·Re(VΛV*) − Pᵀ P, P = 2·Re(V P̃), B = 2·Re(V B̃).

S4 itself keeps the Im Λ < 0 member of each pair (it sorts by Im Λ and takes the first half);
conjugating Λ, P̃, B̃ and V together gives the same full system.

**Diagonal initialisations** (S4D paper, Gu et al. 2022, §4; S4's `dplr()`), n = 0 … N/2−1,
all H channels alike except where random::

    s4d-legs  Λ = Λ of nplr('legs', N) (ascending Im Λ; Re Λ = −½)
    s4d-lin   λ_n = −½ + iπn
    s4d-inv   λ_n = −½ + i(N/π)(N/(2n+1) − 1)
    s4d-real  λ_n = −(n+1) + 0i  (N/2 states, stored complex as S4 does; S4 applies the
              conjugate-half factor 2 to them too)
    random    λ = −exp(zl₀) + i·exp(zl₁)  (S4's nplr('random') real part, dplr('rand')
              imaginary part, Im Λ > 0), zl standard normal
    B = 1, C = (zc₀ + i·zc₁)/√2 (complex normal, E|C|² = 1),
    log Δ = log dt_min + u·(log dt_max − log dt_min), u uniform in [0, 1) (Δ log-uniform).

The random numbers u, zc, zl come from `ssmspec.reference.np.hippo.draws` (torch's CPU generator
seeded with `seed`, in a fixed order), the same for every implementation.
"""

from __future__ import annotations

import functools

import mpmath as mp
import numpy as np

from ssmspec.reference.mp import DPS
from ssmspec.reference.np import hippo as _np

MEASURES = _np.MEASURES
INITS = _np.INITS


def _obj(rows) -> np.ndarray:
    a = np.empty((len(rows), len(rows[0])) if rows and isinstance(rows[0], list)
                 else (len(rows),), dtype=object)
    if a.ndim == 2:
        for i, r in enumerate(rows):
            for j, v in enumerate(r):
                a[i, j] = v
    else:
        for i, v in enumerate(rows):
            a[i] = v
    return a


@functools.cache
def hippo(measure: str, N: int):
    """(A (N, N), B (N,)) as object arrays of mpf (formulas in the module docstring)."""
    _np.check_measure(measure, N)
    with mp.workdps(DPS):
        half = mp.mpf(1) / 2
        A = [[mp.mpf(0)] * N for _ in range(N)]
        if measure == "legs":
            for n in range(N):
                for k in range(n):
                    A[n][k] = -mp.sqrt((2 * n + 1) * (2 * k + 1))
                A[n][n] = mp.mpf(-(n + 1))
            B = [mp.sqrt(2 * n + 1) for n in range(N)]
        elif measure == "legt":
            for n in range(N):
                for k in range(N):
                    sign = 1 if n >= k else (-1) ** (n - k)
                    A[n][k] = -half * sign * mp.sqrt((2 * n + 1) * (2 * k + 1))
            B = [half * mp.sqrt(2 * n + 1) for n in range(N)]
        elif measure == "lagt":
            for n in range(N):
                for k in range(n + 1):
                    A[n][k] = mp.mpf(-1) + (half if n == k else 0)
            B = [mp.mpf(1)] * N
        else:
            B = [mp.mpf(1) if n == 0 else (mp.sqrt(2) if n % 2 == 0 else mp.mpf(0))
                 for n in range(N)]
            for n in range(N):
                for k in range(N):
                    A[n][k] = -B[n] * B[k]
            for k in range(N // 2):
                A[2 * k][2 * k + 1] -= mp.pi * k
                A[2 * k + 1][2 * k] += mp.pi * k
        return _obj(A), _obj(B)


@functools.cache
def rank_correction(measure: str, N: int) -> np.ndarray:
    """P (r, N) object array: r = 2 for legt, 1 otherwise (formulas in the module docstring)."""
    _np.check_measure(measure, N)
    with mp.workdps(DPS):
        half = mp.mpf(1) / 2
        if measure == "legs":
            rows = [[mp.sqrt(n + half) for n in range(N)]]
        elif measure == "legt":
            rows = [[mp.sqrt(n + half) if n % 2 == p else mp.mpf(0) for n in range(N)]
                    for p in (0, 1)]
        elif measure == "lagt":
            rows = [[mp.sqrt(half)] * N]
        else:
            rows = [list(hippo("fout", N)[1])]
        return _obj(rows)


@functools.cache
def nplr(measure: str, N: int):
    """(Λ (N/2,), P̃ (r, N/2), B̃ (N/2,), V (N, N/2)) object arrays of mpc, ascending Im Λ."""
    _np.check_measure(measure, N)
    if N % 2:
        raise ValueError(f"N: the conjugate-half form needs even N, got {N}")
    A, B = hippo(measure, N)
    P = rank_correction(measure, N)
    r = P.shape[0]
    with mp.workdps(DPS):
        c = mp.mpf(_np.shift(measure))
        S = A + np.array([[sum(P[a, i] * P[a, j] for a in range(r)) for j in range(N)]
                          for i in range(N)], dtype=object)
        H = mp.matrix(N, N)
        for i in range(N):
            for j in range(N):
                # −i·K with K = (S − Sᵀ)/2: S's symmetric part is c·I exactly
                H[i, j] = -1j * (S[i, j] - S[j, i]) / 2
        mu, W = mp.eighe(H)
        knorm = max((abs(x) for x in mu), default=mp.mpf(0))
        tol = mp.mpf(10) ** (-DPS // 2) * (1 + knorm)
        zero = [i for i in range(N) if abs(mu[i]) <= tol]
        pos = sorted((i for i in range(N) if mu[i] > tol), key=lambda i: mu[i])
        if len(zero) % 2:
            raise ValueError(f"N: the null space of the skew part has odd dimension {len(zero)}")
        cols, lam = [], []
        if zero:
            nz = len(zero)
            R = mp.matrix(N, 2 * nz)
            for j, i in enumerate(zero):
                for row in range(N):
                    R[row, j] = mp.re(W[row, i])
                    R[row, nz + j] = mp.im(W[row, i])
            U, _, _ = mp.svd_r(R)
            for p in range(nz // 2):
                cols.append([(U[row, 2 * p] + 1j * U[row, 2 * p + 1]) / mp.sqrt(2)
                             for row in range(N)])
                lam.append(mp.mpc(c, 0))
        for i in pos:
            cols.append([W[row, i] for row in range(N)])
            lam.append(mp.mpc(c, mu[i]))
        V = np.empty((N, N // 2), dtype=object)
        for j, col in enumerate(cols):
            for row in range(N):
                V[row, j] = +col[row]
        Vc = np.vectorize(mp.conj, otypes=[object])(V)
        Pt = P.dot(Vc)
        Bt = B.dot(Vc)
    return _obj(lam), Pt, Bt, V


@functools.cache
def exact_invariants(measure: str, N: int) -> dict:
    """The nplr spec's outputs of the exact decomposition (see
    `ssmspec.reference.np.hippo.invariants`): A, B, P are the exact HiPPO matrices themselves;
    Lambda, PB, PP come from the mpmath eigendecomposition; VV = V_full* V_full is the identity."""
    lam, Pt, Bt, _ = nplr(measure, N)
    A, B = hippo(measure, N)
    with mp.workdps(DPS):
        conj = np.vectorize(mp.conj, otypes=[object])
        PB = Pt * conj(Bt)[None, :]
        PP = Pt[:, None, :] * conj(Pt)[None, :, :]
    return {"Lambda": lam, "A": A, "B": B, "P": rank_correction(measure, N), "PB": PB,
            "PP": PP, "VV": np.eye(N, dtype=np.complex128)}


def diag_init(name: str, N: int, H: int, dt_min: float, dt_max: float, seed: int) -> dict:
    """Λ, B, C (H, N/2) and log_dt (H,) as object arrays (formulas in the module docstring)."""
    _np.check_init(name, N, H, dt_min, dt_max)
    d = _np.draws(name, N, H, seed)
    M = N // 2
    with mp.workdps(DPS):
        if name == "s4d-legs":
            row = list(nplr("legs", N)[0])
        elif name == "s4d-lin":
            row = [mp.mpc(-0.5, mp.pi * n) for n in range(M)]
        elif name == "s4d-inv":
            row = [mp.mpc(-0.5, N / mp.pi * (mp.mpf(N) / (2 * n + 1) - 1)) for n in range(M)]
        elif name == "s4d-real":
            row = [mp.mpc(-(n + 1), 0) for n in range(M)]
        lam = np.empty((H, M), dtype=object)
        C = np.empty((H, M), dtype=object)
        for h in range(H):
            for n in range(M):
                if name == "random":
                    z0, z1 = (mp.mpf(float(v)) for v in d["zl"][h, n])
                    lam[h, n] = mp.mpc(-mp.exp(z0), mp.exp(z1))
                else:
                    lam[h, n] = row[n]
                C[h, n] = mp.mpc(d["zc"][h, n, 0], d["zc"][h, n, 1]) * mp.sqrt(mp.mpf(1) / 2)
        lo, hi = mp.log(mp.mpf(dt_min)), mp.log(mp.mpf(dt_max))
        log_dt = _obj([lo + mp.mpf(float(u)) * (hi - lo) for u in d["u"]])
        B = np.empty((H, M), dtype=object)
        B[...] = mp.mpf(1)
    return {"Lambda": lam, "B": B, "C": C, "log_dt": log_dt}


# --- oracles of the laws: coefficients of test functions, by quadrature or in closed form ------


@functools.cache
def legs_moments_quad(N: int, dps: int = 30) -> np.ndarray:
    """c[n, d] = ∫₀¹ s^d √(2n+1) P_n(2s − 1) ds by mp.quad with mp.legendre (0 for n > d by
    orthogonality, which the quadrature would only confirm). Cost ~ N²/2 quadratures."""
    c = np.empty((N, N), dtype=object)
    with mp.workdps(dps):
        for n in range(N):
            for d in range(N):
                c[n, d] = mp.mpf(0) if n > d else mp.quad(
                    lambda s, n=n, d=d: s**d * mp.sqrt(2 * n + 1) * mp.legendre(n, 2 * s - 1),
                    [0, 1])
    return c


@functools.cache
def legs_moments_closed(N: int, dps: int = DPS) -> np.ndarray:
    """The same moments in closed form, ∫₀¹ s^d P_n(2s−1) ds = (d!)² / ((d−n)!·(d+n+1)!) for
    n ≤ d (certified against `legs_moments_quad` in tests/test_reference_hippo.py)."""
    c = np.empty((N, N), dtype=object)
    with mp.workdps(dps):
        for n in range(N):
            for d in range(N):
                c[n, d] = mp.mpf(0) if n > d else mp.sqrt(2 * n + 1) * mp.factorial(d) ** 2 / (
                    mp.factorial(d - n) * mp.factorial(d + n + 1))
    return c


@functools.cache
def legt_moments_quad(N: int, dps: int = 30) -> np.ndarray:
    """m[n, d] = ½∫₋₁¹ x^d √(2n+1) P_n(x) dx by mp.quad with mp.legendre (0 unless n ≤ d and
    d − n even, by orthogonality and parity)."""
    m = np.empty((N, N), dtype=object)
    with mp.workdps(dps):
        for n in range(N):
            for d in range(N):
                m[n, d] = mp.mpf(0) if n > d or (d - n) % 2 else mp.quad(
                    lambda x, n=n, d=d: x**d * mp.sqrt(2 * n + 1) * mp.legendre(n, x),
                    [-1, 0, 1]) / 2
    return m


@functools.cache
def legt_moments_closed(N: int, dps: int = DPS) -> np.ndarray:
    """The same in closed form: ∫₋₁¹ x^d P_n(x) dx = 2^{n+1} d! ((d+n)/2)! / (((d−n)/2)! (d+n+1)!)
    for n ≤ d, d − n even."""
    m = np.empty((N, N), dtype=object)
    with mp.workdps(dps):
        for n in range(N):
            for d in range(N):
                if n > d or (d - n) % 2:
                    m[n, d] = mp.mpf(0)
                    continue
                f = mp.factorial
                m[n, d] = mp.sqrt(2 * n + 1) * 2**n * f(d) * f((d + n) // 2) / (
                    f((d - n) // 2) * f(d + n + 1))
    return m


def lagt_laplace(N: int, a, dps: int = DPS) -> np.ndarray:
    """γ_n(a) = ∫₀^∞ e^{−ax}·L_n(x)e^{−x/2} dx = (a − ½)^n / (a + ½)^{n+1} (a > −½): the LagT
    coefficients of f(s) = e^{as} at t = 0."""
    with mp.workdps(dps):
        a = mp.mpf(a)
        return _obj([(a - mp.mpf(1) / 2) ** n / (a + mp.mpf(1) / 2) ** (n + 1) for n in range(N)])


def fout_coefficients(N: int, t) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Test functions of the FouT law at time t, column j each: (c (N, J), c' (N, J), f(t) (J,)).

    c = ½∫₀² f(t − x) g(x) dx, c' the same with f' (g = 1, √2 cos πkx, √2 sin πkx). Columns:
    f(s) = s (c₀ = t − 1, c_{2k+1} = √2/(πk), c' = e₀), then cos(πms) and sin(πms) for
    m = 1 … N/2−1 (c_{2m}, c_{2m+1} = (cos πmt, sin πmt)/√2 and (sin πmt, −cos πmt)/√2).
    """
    with mp.workdps(DPS):
        t = mp.mpf(t)
        r2 = mp.sqrt(2)
        cols, dcols, fs = [], [], []
        c, dc = [mp.mpf(0)] * N, [mp.mpf(0)] * N
        c[0], dc[0] = t - 1, mp.mpf(1)
        for k in range(1, N // 2):
            c[2 * k + 1] = r2 / (mp.pi * k)
        cols.append(c), dcols.append(dc), fs.append(t)
        for m in range(1, N // 2):
            w = mp.pi * m
            cs, sn = mp.cos(w * t), mp.sin(w * t)
            for f, a, b in ((cs, cs, sn), (sn, sn, -cs)):
                c, dc = [mp.mpf(0)] * N, [mp.mpf(0)] * N
                c[2 * m], c[2 * m + 1] = a / r2, b / r2
                # d/dt of (a, b)(t) = w·(−b, a) for both cos and sin columns
                dc[2 * m], dc[2 * m + 1] = -w * b / r2, w * a / r2
                cols.append(c), dcols.append(dc), fs.append(f)
        C = np.array(cols, dtype=object).T
        D = np.array(dcols, dtype=object).T
        return C, D, _obj(fs)
