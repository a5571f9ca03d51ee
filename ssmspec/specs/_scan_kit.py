"""Glue shared by the spec modules of the scans and recurrences (selective, recurrent, scans, s5,
rg_lru): diagonal test systems (`normals`, `s4d`, which kernels' S4D benchmark draws too),
references and bound terms from the references' tuples (`references`, `as_terms`), a step
function iterated (`iterate`), steps Δ (`step_sizes`) and the split law (`split_law`, with
its `parted` and `carried`). Not a spec module (the leading
underscore): it registers nothing; the laws it builds are registered by the modules using them.
The glue of every family (a call's outputs as numpy, `run`; two calls' agreement, `agree`; ...)
is in `ssmspec.speckit`.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import strategies as st

from ssmspec.speckit import *  # noqa: F403 (the spec vocabulary)


def references(mp, np_, outputs: tuple, mp_max_work: int, work, args=None) -> TwoTier:
    """TwoTier from `mp(case, method)` and `np_(case, method)` (with `args`: `mp(*args(case,
    method))`, `np_` alike), each returning a tuple whose first len(outputs) entries are the
    outputs in that order (a float64 reference with its bound's terms behind them is fine)."""
    def named(fn):
        call = fn if args is None else (lambda case, method: fn(*args(case, method)))
        return lambda case, method: dict(zip(outputs, call(case, method)))

    return TwoTier(mp=named(mp), np=named(np_), mp_max_work=mp_max_work, work=work)


def as_terms(pairs: dict, widen=None) -> dict:
    """{output: Terms(G, M)} from the references' {output: (M, G)}; `widen(G)` if given."""
    return {k: Terms(g if widen is None else widen(g), m) for k, (m, g) in pairs.items()}


def scan_terms(reference, state: str):
    """`terms(case, method, d)`: {output: Terms(G, M)} from `reference(case, method)`'s (y, state,
    M_y, G_y, M_state, G_state); fp16/bf16 are computed in fp32 and rounded once: G widened to
    1 + (u_fp32/u_fmt)·G."""
    def terms(case: Case, method: str, d=None) -> dict:
        t, u = reference(case, method), dtype(case.dtype).u
        low = case.dtype in ("fp16", "bf16")
        widen = (lambda g: 1.0 + (dtype("fp32").u / u) * g) if low else None
        return as_terms({"y": t[2:4], state: t[4:6]}, widen)

    return terms


def eigenvalues(log_re: tuple, im: float, *more) -> st.SearchStrategy[complex]:
    """Stable complex eigenvalues: S4D-Lin −½ + iπk (k < 64), −exp(x) + iy with x uniform in
    `log_re` and |y| ≤ `im`, or one of the strategies `more`."""
    return st.one_of(st.integers(0, 63).map(lambda k: complex(-0.5, math.pi * k)),
                     st.builds(complex, st.floats(*log_re).map(lambda x: -math.exp(x)),
                               st.floats(-im, im)), *more)


def normals(rng, shape, cplx: bool, scale: float = 1.0) -> np.ndarray:
    """Normal entries N(0, scale²) of `shape`, complex (real and imaginary parts drawn in that
    order) if `cplx`."""
    x = rng.normal(0, scale, shape)
    return x + 1j * rng.normal(0, scale, shape) if cplx else x


def s4d(cplx: bool, rows: int, N: int) -> np.ndarray:
    """(rows, N) diagonal state matrices: S4D-Real −(n + 1) (real) or S4D-Lin −½ + iπn (complex)."""
    row = -0.5 + 1j * np.pi * np.arange(N) if cplx else -(np.arange(N) + 1.0)
    return np.broadcast_to(row, (rows, N))


def iterate(step, args: tuple, h, x: torch.Tensor, **kw) -> tuple:
    """`h, y = step(*args, h, x_t, **kw)` for each x_t along x's last axis, from `h`: (the y_t
    stacked on a last axis (real part), the final h) as numpy."""
    ys = []
    for t in range(x.shape[-1]):
        h, y = step(*args, h, x[..., t].contiguous(), **kw)
        ys.append(to_numpy(y).real)
    return np.stack(ys, axis=-1), to_numpy(h)


def split_law(primitive: str, cases, lengths, axis: int, part, carry):
    """The law scan(x[:k]) then scan(x[k:], state = the first part's last state) = scan(x) of the
    primitive (looked up when the law runs) with outputs (y, last state), time on y's `axis`.
    `cases(fmt, method, length)` draws a case of a length from `lengths` (> 1), `part(case, lo,
    hi, state)` cuts its time axis (state None: keep the case's own), `carry(second, err, method)`
    returns (M_y, M_state): the first part's state error `err` carried through the second part
    (docs/selective.md#selective_scan, docs/s5.md#s5_scan)."""
    def split(ctx: LawContext) -> None:
        spec = registry.spec(primitive)
        state = spec.outputs[1]
        method, case = draw_case(ctx, cases, spec.methods, length=lengths.filter(lambda n: n > 1))
        L = case.arrays["u"].shape[axis]
        k = ctx.draw(st.integers(1, L - 1))
        first = part(case, 0, k, None)
        y1, h1 = run(spec, ctx.fn, first, method, ctx.device)
        second = part(case, k, L, h1)
        y2, h2 = run(spec, ctx.fn, second, method, ctx.device)
        y, h = run(spec, ctx.fn, case, method, ctx.device)
        bf, b1, b2 = (spec.bound(c, method) for c in (case, first, second))
        My, Mh = carry(second, b1[state], method)
        grow = 1 + 2 * dtype(ctx.dtype).u
        tol_y = bf["y"] + np.concatenate([b1["y"], b2["y"] + My * grow], axis=axis)
        assert_within(np.concatenate([y1, y2], axis=axis), y, tol_y,
                      f"{method}: y split at {k} of {L}")
        assert_within(h2, h, bf[state] + b2[state] + Mh * grow,
                      f"{method}: last state split at {k} of {L}")

    return split


def step_sizes(rng, shape, regime: str, specials: tuple = (0.05, 0.95)) -> np.ndarray:
    """Steps Δ of `shape` (selective_scan's, ssd_scan's, s5_scan's): log-uniform in [1e-4, 1]
    ("uniform") or [1e-7, 1e-3] ("small"), all float(regime) ("1e-6", "10"), or ("specials")
    log-uniform, with 1e-6 below the quantile specials[0] of a uniform pick and 10 above
    specials[1]."""
    if regime == "small":
        return 10.0 ** rng.uniform(-7, -3, shape)
    dt = 10.0 ** rng.uniform(-4, 0, shape)
    if regime == "specials":
        pick = rng.uniform(size=shape)
        dt = np.where(pick < specials[0], 1e-6, np.where(pick > specials[1], 10.0, dt))
    elif regime in ("1e-6", "10"):
        dt = np.full(shape, float(regime))
    return dt


def parted(state: str, axis: int, timed):
    """`part(case, lo, hi, h0)` of a scan's split law (`_scan_kit.split_law`): the case's steps
    lo..hi-1 on `axis` of each array `timed(name, array)` picks, from the initial state (the
    argument `state`) h0 where given (None: the case's own)."""
    def part(case: Case, lo: int, hi: int, h0) -> Case:
        cut = {k: np.take(x, range(lo, hi), axis) for k, x in case.arrays.items() if timed(k, x)}
        return case.with_(**cut) if h0 is None else case.with_(**cut, **{state: h0})

    return part


def carried(terms, state: str, matrix: str):
    """`carry(second, err, method)` of a scan's split law (`_scan_kit.split_law`): (M_y, M_state),
    the error `err` of the first part's last state carried through the second part, by |Ā| and
    read by |C|: `terms(case, method)` (the float64 reference with its bound: y, state, M_y, G_y,
    M_state, G_state) on the second part with D left out, B = 0 and the initial state (the
    argument `state`) = err, in the dtype of the state matrix (the array `matrix`)."""
    def carry(second: Case, err, method: str):
        a = second.arrays
        t = terms(second.without("D").with_(B=np.zeros_like(a["B"]),
                                             **{state: err.astype(a[matrix].dtype)}), method)
        return t[2], t[4]

    return carry
