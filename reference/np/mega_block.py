"""Mega's gated block (arXiv 2209.10655 §3.3, eqs. (7)–(15); conventions as
`ssmspec.impl.mega_block`) in long double, built from the references of its parts, and the
magnitude M and growth G of its error bound (docs/error-model.md).

    X′ = silu(ema_preactivation(X))        (`reference.np.recurrent`: the EMA recurrences)
    Z, Q, K, V, γ, φ, Ĥ, Y                  the block's formulas, in long double
    O = attention(Q, K, V)                  (`reference.np.mega_attention`, rounded to float64)

Bound: a running error e (in units of u, |computed − exact| ≤ u·e) carried through the
composition on absolute values, per element of every intermediate:

    X′:      e = c_ema·(G·M)_ema[b, d]              the EMA layer's own bound (norm-wise per
                                                     signal, so also elementwise), c_ema = 4
    a = A W + b (n terms):  e_a = e_A |W| + (n + 1)(|A||W| + |b|)
    silu(a): e = 1.1·e_a + 4|silu(a)|;  sigmoid(a): e = ¼·e_a + 4σ(a)   (|silu′| ≤ 1.1, |σ′| ≤ ¼)
    Q = κ ⊙ Z + μ:  e = |κ| e_Z + 2(|κ Z| + |μ|)
    O:       e = c_att·(G·M)_att + Σ_j (A_ij e_V[j] + δA_ij (|V_j| + u·e_V[j]))
             δs_ij = scale·Σ_s (e_Q|K| + |Q| e_K + u·e_Q e_K)        (the scores' perturbation)
             δA_ij = 2Δ_i·e^{2uΔ_i}·A_ij, Δ_i = max_j δs_ij            softmax (A′/A ∈ e^{±2uΔ})
                     √2·e^{−2π(t* − μ)²}·δs_ij, t* the point of [s ± u·δs] nearest μ   laplace
                     2·max(s, 0)·δs_ij + u·δs_ij²                                       relu2
             c_att = 4, the attention's own bound
    γ ⊙ O:   e = |γ| e_O + |O| e_γ + u·e_γ e_O + |γ O|
    Ĥ's pre-activation X′W_h + (γO)U_h + b_h: D + E terms
    Y = φĤ + (1 − φ)X:  e = φ e_Ĥ + |Ĥ| e_φ + |X| e_{1−φ} + u·e_φ e_Ĥ + 4·M
    M = φ|Ĥ| + (1 − φ)|X|,  G = e/M

Every step is a rigorous bound except the linear layers' and products' second-order terms
u²·e·e′, which the spec's c = 2 covers while u·e ≪ 1.
"""

from __future__ import annotations

import math

import numpy as np

from ssmspec.reference.np import mega_attention as att
from ssmspec.reference.np import recurrent as rec
from ssmspec.reference.np.precision import LD

FIELDS = ("delta", "alpha", "beta", "gamma", "omega", "w_v", "b_v", "w_z", "b_z", "qk_gamma",
          "qk_beta", "w_r", "b_r", "w_u", "b_u", "w_h", "u_h", "b_h", "bias")
C_EMA = 4.0
C_ATT = 4.0
MU = math.sqrt(0.5)


def _ld(a):
    return np.asarray(a, np.float64).astype(LD())


def _silu(a):
    return rec.silu(a)


def _sigmoid(a):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-a))


def forward(x, p: dict, fn: str, chunk=None, bidirectional=None) -> dict:
    """Every intermediate of the block, long double (O float64), x (batch, L, D)."""
    x = _ld(x)
    xt = np.swapaxes(x, 1, 2)
    ema_params = tuple(p[k] for k in FIELDS[:4])
    xe = np.swapaxes(_silu(rec.ema_preactivation(xt, ema_params, p["omega"], bidirectional)),
                     1, 2)
    P = {k: _ld(p[k]) for k in FIELDS[5:]}
    f = {"x": x, "xe": xe}
    f["a_z"] = xe @ P["w_z"] + P["b_z"]
    f["z"] = _silu(f["a_z"])
    f["q"] = f["z"] * P["qk_gamma"][0] + P["qk_beta"][0]
    f["k"] = f["z"] * P["qk_gamma"][1] + P["qk_beta"][1]
    f["a_v"] = x @ P["w_v"] + P["b_v"]
    f["v"] = _silu(f["a_v"])
    f["o"] = _ld(att.attention(f["q"], f["k"], f["v"], p["bias"], fn, chunk))
    f["a_r"] = xe @ P["w_r"] + P["b_r"]
    f["r"] = _silu(f["a_r"])
    f["a_u"] = xe @ P["w_u"] + P["b_u"]
    f["phi"], f["one_minus_phi"] = _sigmoid(f["a_u"]), _sigmoid(-f["a_u"])
    f["ro"] = f["r"] * f["o"]
    f["a_h"] = xe @ P["w_h"] + f["ro"] @ P["u_h"] + P["b_h"]
    f["h"] = _silu(f["a_h"])
    f["y"] = f["phi"] * f["h"] + f["one_minus_phi"] * x
    return f


def block(x, p: dict, fn: str, chunk=None, bidirectional=None) -> np.ndarray:
    """Y (batch, L, D), float64."""
    return forward(x, p, fn, chunk, bidirectional)["y"].astype(np.float64)


def _lin(a_abs, e_a, W, b=None):
    W = np.abs(np.asarray(W, np.float64))
    rnd = a_abs @ W + (0 if b is None else np.abs(np.asarray(b, np.float64)))
    return e_a @ W + (W.shape[0] + 1) * rnd


def _silu_err(a, e_a):
    return 1.1 * e_a + 4 * np.abs(_silu(a))


def _score_perturbation(fn, q, k, dq, dk, n, S, u):
    """δs (batch, n, n) in units of u from the errors dq, dk of one window's q, k."""
    scale = 1 / math.sqrt(S) if fn == "softmax" else 1 / n
    aq, ak = np.abs(q), np.abs(k)
    ds = (np.einsum("bis,bjs->bij", dq, ak) + np.einsum("bis,bjs->bij", aq, dk)
          + u * np.einsum("bis,bjs->bij", dq, dk))
    return scale * ds


def _weights(fn, q, k, bias, n, S):
    """(scores, weights) of one window, float64, from long double."""
    scale = 1 / math.sqrt(S) if fn == "softmax" else 1 / n
    s = np.einsum("bis,bjs->bij", _ld(q), _ld(k)) * scale + _ld(att.relative_bias_matrix(bias, n))
    if fn == "softmax":
        ex = np.exp(s - s.max(axis=-1, keepdims=True))
        A = ex / ex.sum(axis=-1, keepdims=True)
    elif fn == "laplace":
        import scipy.special

        A = 0.5 * scipy.special.erfc(((MU - s) * math.sqrt(2 * math.pi)).astype(np.float64))
    else:
        A = np.maximum(s, 0) ** 2
    return s.astype(np.float64), np.asarray(A, np.float64)


def attention_error(fn, q, k, v, bias, chunk, eq, ek, ev, u):
    """e_O (batch, L, E) in units of u: the attention's own bound plus the propagated errors
    of q, k, v (module docstring)."""
    q64, k64, v64 = (np.asarray(t, np.float64) for t in (q, k, v))
    _, Ma, Ga = att.attention_with_bound(q, k, v64, bias, fn, chunk, None, u)
    e = C_ATT * Ma * Ga
    S = q64.shape[2]
    for a, b in att.windows(q64.shape[1], chunk):
        n = b - a
        s, A = _weights(fn, q64[:, a:b], k64[:, a:b], bias, n, S)
        ds = _score_perturbation(fn, q64[:, a:b], k64[:, a:b], eq[:, a:b], ek[:, a:b], n, S, u)
        with np.errstate(over="ignore", invalid="ignore"):
            if fn == "softmax":
                d = ds.max(axis=-1, keepdims=True)
                dA = 2 * d * np.exp(2 * u * d) * A
            elif fn == "laplace":
                t = np.clip(MU, s - u * ds, s + u * ds)
                dA = math.sqrt(2) * np.exp(-2 * math.pi * (t - MU) ** 2) * ds
            else:
                dA = 2 * np.maximum(s, 0) * ds + u * ds**2
        # a perturbation bound that overflowed (inf · a zero weight) is unbounded, not undefined:
        # the first-order composition is past its validity there (u·G ≳ 1) and admits anything
        dA = np.where(np.isnan(dA), np.inf, dA)
        av, evw = np.abs(v64[:, a:b]), ev[:, a:b]
        e[:, a:b] += np.einsum("bij,bje->bie", A, evw) + np.einsum("bij,bje->bie", dA,
                                                                   av + u * evw)
    return e


def block_with_bound(x, p: dict, fn: str, chunk=None, bidirectional=None, u=2.0**-53):
    """(Y, M, G), each (batch, L, D), float64."""
    f = forward(x, p, fn, chunk, bidirectional)
    g = {k: np.abs(val).astype(np.float64) for k, val in f.items()}
    B, L, D = g["x"].shape
    E = g["v"].shape[2]
    Me, Ge = rec.ema_bound(np.swapaxes(np.asarray(x, np.float64), 1, 2),
                           tuple(p[k] for k in FIELDS[:4]), p["omega"], bidirectional)["y"]
    e_xe = np.broadcast_to((C_EMA * Me * Ge)[:, None, :], (B, L, D))
    e_z = _silu_err(f["a_z"].astype(np.float64), _lin(g["xe"], e_xe, p["w_z"], p["b_z"]))
    kq, kk = (np.abs(np.asarray(p["qk_gamma"], np.float64)[i]) for i in (0, 1))
    mq, mk = (np.abs(np.asarray(p["qk_beta"], np.float64)[i]) for i in (0, 1))
    e_q = kq * e_z + 2 * (kq * g["z"] + mq)
    e_k = kk * e_z + 2 * (kk * g["z"] + mk)
    e_v = _silu_err(f["a_v"].astype(np.float64), _lin(g["x"], np.zeros_like(g["x"]), p["w_v"],
                                                      p["b_v"]))
    e_o = attention_error(fn, f["q"], f["k"], f["v"], p["bias"], chunk, e_q, e_k, e_v, u)
    e_r = _silu_err(f["a_r"].astype(np.float64), _lin(g["xe"], e_xe, p["w_r"], p["b_r"]))
    e_au = _lin(g["xe"], e_xe, p["w_u"], p["b_u"])
    e_phi = 0.25 * e_au + 4 * g["phi"]
    e_omp = 0.25 * e_au + 4 * g["one_minus_phi"]
    e_ro = g["r"] * e_o + g["o"] * e_r + u * e_r * e_o + g["ro"]
    w_h, u_h = (np.abs(np.asarray(p[k], np.float64)) for k in ("w_h", "u_h"))
    e_ah = (e_xe @ w_h + e_ro @ u_h
            + (D + E + 1) * (g["xe"] @ w_h + g["ro"] @ u_h + np.abs(p["b_h"])))
    e_h = _silu_err(f["a_h"].astype(np.float64), e_ah)
    M = g["phi"] * g["h"] + g["one_minus_phi"] * g["x"]
    GM = g["phi"] * e_h + g["h"] * e_phi + g["x"] * e_omp + u * e_phi * e_h + 4 * M
    GM = np.where(np.isnan(GM), np.inf, GM)  # inf · 0 of an unbounded term: unbounded
    with np.errstate(divide="ignore", invalid="ignore"):
        G = np.where(M > 0, GM / np.where(M > 0, M, 1), 1.0)
    M = np.where(M > 0, M, GM)
    return f["y"].astype(np.float64), M, G
