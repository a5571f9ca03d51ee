"""The first-order linear recurrence (docs/scans.md) in NumPy, and the terms of its error bounds.

    h_t = a_t · h_{t−1} + b_t,    h_{−1} = h0 (0 if None),    t = 0 … L−1 over the last axis

(`reverse`: t from L−1 down). The scan runs step by step, vectorised over the leading axes, in
numpy's longdouble (80-bit extended on x86, u = 2^-64; plain float64 where longdouble is float64)
and is returned in float64/complex128: at L = 16384 a float64 accumulation would carry errors of
the size of an fp64 implementation's, an extended one carries 2^-11 of that.

Bound terms, per h_t, in the scan's own step order τ (τ = t forward, L−1−t under reverse):
- `magnitude`: M = the same scan run on (|a|, |b|, |h0|) (the running-error
  magnitude of docs/error-model.md: every term b_s·Π a_r and h0·Π a_r taken in absolute value).
- `step_growth`: τ + 1, the number of steps from the start (products and sums of the recurrence).
- `log_growth`: Λ_τ = Σ_{σ≤τ, a≠0} |log|a_σ||, the magnitude of the cumulative log a a log-space
  scan forms, and β_τ = max |log|x|| over the nonzero b_σ (σ ≤ τ) and h0, the magnitude of the
  log of an input it forms (`scan_log_terms`).
"""

from __future__ import annotations

import math

import numpy as np

from ssmspec.reference.np.precision import CLD, LD


def _steps(a, b, h0, reverse, wide):
    """The recurrence in dtype `wide`, as (R, L) rows; returns (R, L) in `wide`."""
    L = a.shape[-1]
    a2 = np.ascontiguousarray(a.reshape(-1, L).T, dtype=wide)  # (L, R): one contiguous row a step
    b2 = np.ascontiguousarray(b.reshape(-1, L).T, dtype=wide)
    h = np.zeros(a2.shape[1], dtype=wide) if h0 is None else np.asarray(h0, wide).reshape(-1)
    out = np.empty_like(a2)
    for t in (range(L - 1, -1, -1) if reverse else range(L)):
        h = a2[t] * h + b2[t]
        out[t] = h
    return out.T


def linear_scan(a, b, h0=None, reverse: bool = False) -> np.ndarray:
    """h (..., L), float64 or complex128, accumulated in longdouble."""
    a, b = np.asarray(a), np.asarray(b)
    cplx = np.iscomplexobj(a) or np.iscomplexobj(b) or np.iscomplexobj(h0)
    wide = CLD() if cplx else LD()
    out = _steps(a, b, h0, reverse, wide)
    return out.astype(np.complex128 if cplx else np.float64).reshape(a.shape)


def magnitude(a, b, h0=None, reverse: bool = False) -> np.ndarray:
    """M (..., L): the scan of (|a|, |b|, |h0|), float64."""
    a, b = np.abs(np.asarray(a)), np.abs(np.asarray(b))
    m0 = None if h0 is None else np.abs(np.asarray(h0))
    return _steps(a, b, m0, reverse, np.float64).reshape(a.shape)


def step_index(shape, reverse: bool = False) -> np.ndarray:
    """τ (..., L): each step's position in the scan's order (0 at the first step)."""
    L = shape[-1]
    tau = np.arange(L, dtype=np.float64)
    return np.broadcast_to(tau[::-1] if reverse else tau, shape)


def scan_log_terms(a, b, h0=None, reverse: bool = False):
    """(Λ, β), each (..., L) float64; see the module docstring."""
    a, b = np.asarray(a), np.asarray(b)
    flip = (lambda x: x[..., ::-1]) if reverse else (lambda x: x)
    with np.errstate(divide="ignore"):
        la = np.where(a != 0, np.abs(np.log(np.where(a != 0, np.abs(a), 1.0))), 0.0)
        lb = np.where(b != 0, np.abs(np.log(np.where(b != 0, np.abs(b), 1.0))), 0.0)
    lam = flip(np.cumsum(flip(la), axis=-1))
    beta = flip(np.maximum.accumulate(flip(lb), axis=-1))
    if h0 is not None:
        h0 = np.asarray(h0)
        with np.errstate(divide="ignore"):
            l0 = np.where(h0 != 0, np.abs(np.log(np.where(h0 != 0, np.abs(h0), 1.0))), 0.0)
        beta = np.maximum(beta, l0[..., None])
    return lam, beta


def growth(method: str, chunk: int, a, b=None, h0=None, reverse: bool = False) -> np.ndarray:
    """G (..., L) of docs/scans.md#bound for `method` ("sequential", "associative", "chunked"
    with chunks of `chunk` steps, "logspace", which reads b and h0 too); a of the scan's shape."""
    a = np.asarray(a)
    L = a.shape[-1]
    tau = step_index(a.shape, reverse)
    levels = lambda n: math.ceil(math.log2(n)) if n > 1 else 0  # noqa: E731
    if method == "sequential":
        return tau + 1.0
    if method == "associative":
        return tau + 2.0 * levels(L) + 2.0
    if method == "chunked":
        return tau + 2.0 * levels(-(-L // chunk)) + 2.0
    if method == "logspace":
        lam, beta = scan_log_terms(a, b, h0, reverse)
        return tau + 1.0 + 2.0 * lam + beta
    raise ValueError("method: expected one of ('sequential', 'associative', 'chunked', "
                     f"'logspace'), got {method!r}")
