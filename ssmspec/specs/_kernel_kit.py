"""Glue shared by the spec modules of the kernels, dplr, discretization, hippo and convolution
families: laws from rows, a law's fresh seed, a case written out with its conjugate pairs. Not a
spec module (the leading underscore): it declares no primitive. The glue of every family is in
`ssmspec.speckit`.
"""

from __future__ import annotations

import functools

import numpy as np
from hypothesis import strategies as st

from ssmspec.speckit import *  # noqa: F403 (the spec vocabulary)


def seeded(ctx: LawContext) -> np.random.Generator:
    """A numpy generator seeded by a draw (hypothesis shrinks the seed)."""
    return np.random.default_rng(ctx.draw(st.integers(0, 2**32 - 1)))


def conj_full(case: Case, names) -> Case:
    """`case` with conj_half=False and each of `names` written out with its conjugate pair."""
    return case.with_(conj_half=False, **{k: np.concatenate([case.arrays[k],
                                                             np.conj(case.arrays[k])], axis=-1)
                                          for k in names})


def laws(dtypes, *rows) -> list[Law]:
    """Laws from rows `(name, statement, check)`, in `dtypes`, or `(name, statement, check,
    dtypes)` where a law's formats differ."""
    return [Law(*row) if len(row) == 4 else Law(*row, dtypes) for row in rows]


# the kernel laws' lengths: {1, 2, 3, 2^k − 1, 2^k, 2^k + 1} up to 65 (impulse responses, NaN
# rows: one call per step or per entry) and up to 257 (the other kernel laws)
SHORT = st.sampled_from(boundary_lengths(65))
MEDIUM = st.sampled_from(boundary_lengths(257))


def kernel_laws(draw, kernel, bound, halved, rounding, rows: bool = False) -> dict:
    """The checks of the laws diag_kernel and dplr_kernel share, by name: conj_half_full, prefix
    and linearity_in_C (docs/kernels.md#diag_kernel, docs/dplr.md#dplr_kernel).

    `draw(ctx, conj_half=None)` -> (method, case) with L from MEDIUM; `kernel(ctx, case, method)`
    -> K (H, L) real numpy; `bound(case, method)` -> K's bound, elementwise (H, L) or, where
    `rows`, a row 2-norm (H,); `halved` the arrays conj_half stores one of each pair of;
    `rounding(case, method)` -> what rounding C₁ + C₂ to the format moves K by, for `case` of
    C = |C₁| + |C₂|."""

    def conj_half_full(ctx: LawContext) -> None:
        method, case = draw(ctx, conj_half=True)
        full_case = conj_full(case, halved)
        within(kernel(ctx, case, method), kernel(ctx, full_case, method),
               bound(case, method) + bound(full_case, method),
               f"{method}: half (conj_half=True) vs full (conj_half=False)", rows)

    def prefix(ctx: LawContext) -> None:
        method, case = draw(ctx)
        short = case.with_(L=ctx.draw(st.integers(1, case.params["L"])))
        Ls = short.params["L"]
        # a row bound of the long kernel covers its first Ls entries too (a sub-vector's 2-norm)
        head = bound(case, method) if rows else bound(case, method)[:, :Ls]
        within(kernel(ctx, case, method)[:, :Ls], kernel(ctx, short, method),
               head + bound(short, method), f"{method}: K(L)[:, :{Ls}] vs K({Ls})", rows)

    def linearity_in_C(ctx: LawContext) -> None:
        method, c1 = draw(ctx)
        C1 = c1.arrays["C"]
        c2 = c1.with_(C=np.flip(C1, axis=1) * -0.75)
        c3 = c1.with_(C=representable(C1 + c2.arrays["C"], ctx.dtype))
        k1, k2, k3 = (kernel(ctx, c, method) for c in (c1, c2, c3))
        # the rounding of C₁ + C₂ to the format moves K(C₃) by at most u·(bound of |C₁| + |C₂|)
        cabs = c1.with_(C=(np.abs(C1) + np.abs(c2.arrays["C"])).astype(C1.dtype))
        tol = sum(bound(c, method) for c in (c1, c2, c3)) + rounding(cabs, method)
        within(k1 + k2, k3, tol, f"{method}: K(C1) + K(C2) vs K(C1 + C2)", rows)

    return {"conj_half_full": conj_half_full, "prefix": prefix, "linearity_in_C": linearity_in_C}


def two_tier(of, modules, mp_max_work: int, work) -> TwoTier:
    """A reference in two tiers: `of(module, case, method)` -> outputs, `modules` = (the mpmath
    module, the float64 module); mpmath while `work(case)` ≤ `mp_max_work`."""
    mp_module, np_module = modules
    return TwoTier(mp=functools.partial(of, mp_module), np=functools.partial(of, np_module),
                   mp_max_work=mp_max_work, work=work)
