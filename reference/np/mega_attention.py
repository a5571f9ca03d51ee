"""Mega's attention (arXiv 2209.10655 §3.2–3.4) in float64 (scores and weights in long double,
the output rounded once), and the magnitude M and growth G of its error bound (docs/error-model.md).
Definitions as `ssmspec.reference.mp.mega_attention`.

Per window of n keys, on absolute values (scale = 1/√S for softmax, 1/n otherwise):

    Sabs_ij = scale·Σ_s |q_is||k_js| + |b_ij|     (the score's magnitude)
    e_ij    = (S + 3)·Sabs_ij + |s_ij − m_i|        softmax (m_i = max_j s_ij)
              (S + 3)·Sabs_ij + 2(|s_ij| + μ)        laplace, relu2
    β_ij    = A_ij·(e_ij + Σ_k A_ik e_ik + n + 4)    softmax: exp of an argument off by u·e,
                                                     the normaliser, the division
              A_ij·(κ_ij·e_ij + 4)                   laplace: κ = f'/f = √(2π)·(2/√π)/erfcx(x),
                                                     x = (μ − s)·√(2π) (the tail's sensitivity)
              2·max(s_ij, 0)·e_ij + 3·A_ij + u·e_ij²  relu2: d(s²) = 2s·ds + ds², rounding of s²
    G·M_ie  = Σ_j |v_je|·(β_ij + (n + 2)·A_ij),   M_ie = Σ_j A_ij·|v_je|

(the output's n-term sum and its rounding give the (n + 2)·A). Where M = 0 (every weight of the
row is 0) M is G·M and G = 1, so the bound still admits the relu2 ds² term.

Underflow. The bound's form is c·u·G·M + G·η: G also counts the subnormal spacings η the
computation may lose. In the subnormal range a rounding errs by up to η/2 whatever the value, so
relative terms do not cover it. A weight A_ij is the last of a short chain whose final one or two
operations may land below the normal range (½·erfc: the erfc and the halving; softmax: the
exponential and the division by a normaliser ≥ 1; relu2: the square of a score that is then
tiny): its absolute underflow error is at most η. Multiplied by v_je that is η·|v_je|; the n
products and the n − 1 additions each lose at most η/2 more. Hence per output

    U_ie = Σ_j |v_je| + n     (j over the window's valid keys)

spacings η at most, and the bound needs G ≥ U. Where U > G, G is raised to U and M lowered by
the same factor, so that c·u·G·M is unchanged and only the η term grows. (Found by a random-seed
run: laplace, fp64, chunk 1, a weight ½·erfc(27) ≈ 10η times v ≈ −2: error 2η against a bound of
η.)
"""

from __future__ import annotations

import math

import numpy as np
import scipy.special

from ssmspec.reference.np.precision import LD

MU = math.sqrt(0.5)
SQRT_2PI = math.sqrt(2.0 * math.pi)


def windows(L: int, chunk):
    c = L if chunk is None else min(chunk, L)
    return [(s, min(L, s + c)) for s in range(0, L, c)]


def relative_bias_matrix(bias, n):
    P = (len(bias) + 1) // 2
    i = np.arange(n)
    return np.asarray(bias)[P - 1 + i[None, :] - i[:, None]]


def _half_erfc(x: np.ndarray) -> np.ndarray:
    """½·erfc(x) as long double, ~u₆₄ relative for every x. For x > 0 it is ½·erfcx(x)·e^(−x²)
    with the exponential in long double: float64 erfc flushes its tail to 0 where the value is
    still a float64 subnormal (x ≳ 26.5), which made M = 0 and the float64 output 0 there.
    (Long double erfc is not in scipy: float64 erfcx of the long double x is ~u relative, far
    below any format's bound but fp64's, where it is inside the c·u of β's "+ 4".)"""
    xf = x.astype(np.float64)
    pos = xf > 0
    tail = 0.5 * scipy.special.erfcx(np.where(pos, xf, 0.0)).astype(LD()) * np.exp(
        -np.where(pos, x, 0) ** 2)
    return np.where(pos, tail, 0.5 * scipy.special.erfc(np.where(pos, 0.0, xf)).astype(LD()))


def attention_with_bound(q, k, v, bias, fn, chunk=None, mask=None, u=2.0**-53):
    """(out, M, G), each (batch, L, E)."""
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    B, L, S = q.shape
    out, M, GM, U = (np.zeros((B, L, v.shape[2])) for _ in range(4))
    for a, b in windows(L, chunk):
        n_all = b - a
        valid = np.ones((n_all, n_all), bool) if mask is None else np.asarray(mask)[a:b, a:b]
        n = valid.sum(axis=-1, keepdims=True)  # (n, 1)
        scale = 1 / math.sqrt(S) if fn == "softmax" else 1 / n
        qa, ka, va = q[:, a:b].astype(LD()), k[:, a:b].astype(LD()), v[:, a:b]
        rel = relative_bias_matrix(bias, n_all)
        s = np.einsum("bis,bjs->bij", qa, ka) * scale + rel
        sabs = np.einsum("bis,bjs->bij", np.abs(qa), np.abs(ka)) * scale + np.abs(rel)
        sabs = sabs.astype(np.float64)
        if fn == "softmax":
            s = np.where(valid, s, -np.inf)
            m = np.max(s, axis=-1, keepdims=True)
            ex = np.exp(s - m)
            A = ex / ex.sum(axis=-1, keepdims=True)
            e = (S + 3) * sabs + np.where(valid, np.abs(s - m), 0).astype(np.float64)
            Af = A.astype(np.float64)
            beta = Af * (e + np.sum(Af * e, axis=-1, keepdims=True) + n + 4)
        elif fn == "laplace":
            x = (MU - s) * SQRT_2PI
            A = _half_erfc(x)
            A = np.where(valid, A, 0)
            e = (S + 3) * sabs + 2 * (np.abs(s).astype(np.float64) + MU)
            kappa = SQRT_2PI * (2 / math.sqrt(math.pi)) / scipy.special.erfcx(
                x.astype(np.float64))
            Af = A.astype(np.float64)
            beta = Af * (kappa * e + 4)
        else:
            A = np.where(valid, np.maximum(s, 0) ** 2, 0)
            e = (S + 3) * sabs + 2 * np.abs(s).astype(np.float64)
            Af = A.astype(np.float64)
            sp = np.maximum(s, 0).astype(np.float64)
            beta = np.where(valid, 2 * sp * e + 3 * Af + u * e**2, 0)
        out[:, a:b] = np.einsum("bij,bje->bie", A, va.astype(LD())).astype(np.float64)
        av = np.abs(va)
        M[:, a:b] = np.einsum("bij,bje->bie", Af, av)
        GM[:, a:b] = np.einsum("bij,bje->bie", beta + (n + 2) * Af, av)
        U[:, a:b] = np.einsum("ij,bje->bie", valid.astype(np.float64), av) + n
    with np.errstate(divide="ignore", invalid="ignore"):
        G = np.where(M > 0, GM / np.where(M > 0, M, 1), 1.0)
    M = np.where(M > 0, M, GM)
    return out, M * G / np.maximum(G, U), np.maximum(G, U)


def attention(q, k, v, bias, fn, chunk=None, mask=None):
    """out (batch, L, E), float64."""
    return attention_with_bound(q, k, v, bias, fn, chunk, mask)[0]
