"""Hypothesis strategies shared by the specs.

Every strategy returns float64/complex128 numpy values already rounded to the format under test
(`round_to`), so an implementation and its reference see the same numbers.
"""

from __future__ import annotations

import os

import numpy as np
from hypothesis import strategies as st

from ssmspec import scope
from ssmspec.dtypes import dtype, real_of, round_to
from ssmspec.profiles import heavy  # registers the profiles at import, never inside a test


def log_uniform(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Floats whose log10 is uniform in [log10 lo, log10 hi] (Δ over many decades)."""
    return st.floats(np.log10(lo), np.log10(hi)).map(lambda e: float(10.0**e))


def batch_shapes(max_dims: int = 2, max_side: int = 3) -> st.SearchStrategy[tuple[int, ...]]:
    """Leading batch shapes: (), (h,), (b, h), ... with small sides."""
    return st.lists(st.integers(1, max_side), max_size=max_dims).map(tuple)


def representable(values, fmt) -> np.ndarray:
    """`values` rounded to `fmt` (its real part's format for real values of a complex run)."""
    a = np.asarray(values)
    d = dtype(fmt)
    return round_to(a, d if np.iscomplexobj(a) else real_of(d))


def arrays(shape, elements: st.SearchStrategy) -> st.SearchStrategy[np.ndarray]:
    """A float64 or complex128 array of `shape` with elements from `elements`."""
    n = int(np.prod(shape)) if len(shape) else 1
    return st.lists(elements, min_size=n, max_size=n).map(lambda v: np.array(v).reshape(shape))


def stable_reals(max_mag: float, min_mag: float = 1e-12) -> st.SearchStrategy[float]:
    """Real eigenvalues λ ≤ 0: exactly 0, tiny (~1e-12), log-uniform moderate and large."""
    return st.one_of(
        st.just(0.0),
        log_uniform(min_mag, max_mag).map(lambda x: -x),
    )


def stable_complex(max_mag: float, min_mag: float = 1e-12) -> st.SearchStrategy[complex]:
    """Complex eigenvalues with Re λ ≤ 0 and |Im λ| from tiny to large."""
    im = st.one_of(st.just(0.0), log_uniform(min_mag, max_mag), log_uniform(min_mag, max_mag).map(
        lambda x: -x))
    return st.builds(lambda r, i: complex(r, i), stable_reals(max_mag, min_mag), im)


def real_normals(scale: float = 1.0) -> st.SearchStrategy[float]:
    """Moderate reals of either sign (entries of B, C)."""
    return st.floats(-scale, scale, allow_nan=False, allow_infinity=False, allow_subnormal=False)


# Under the Triton interpreter (TRITON_INTERPRET=1: kernels run element by element in Python) the
# lengths stop here; the bounds are unchanged. 257 keeps the "long" draws (≥ 255) of the scans.
INTERPRET_LENGTH_CAP = 257


def boundary_lengths(limit: int) -> tuple[int, ...]:
    """{1, 2, 3, 2^k − 1, 2^k, 2^k + 1} up to `limit`: the lengths where tree scans, FFT sizes
    and chunkings change shape. Capped at INTERPRET_LENGTH_CAP under TRITON_INTERPRET=1."""
    if os.environ.get("TRITON_INTERPRET", "0") not in ("", "0"):
        limit = min(limit, INTERPRET_LENGTH_CAP)
    out = {1, 2, 3}
    k = 2
    while 2**k - 1 <= limit:
        out |= {n for n in (2**k - 1, 2**k, 2**k + 1) if n <= limit}
        k += 1
    return tuple(sorted(out))


def sequence_lengths(ci_limit: int, nightly_limit: int = 16384) -> st.SearchStrategy[int]:
    """Boundary lengths up to `ci_limit`, or `nightly_limit` under the nightly profile; the short
    ones (≤ 17) drawn half the time."""
    all_ = boundary_lengths(nightly_limit if heavy() else ci_limit)
    return st.one_of(st.sampled_from([n for n in all_ if n <= 17]), st.sampled_from(all_))


def feature(name: str, present: st.SearchStrategy, absent=None) -> st.SearchStrategy:
    """How a spec strategy draws the optional feature `name` (one of `Spec.features`):
    `present` (a strategy that may draw it), or `st.just(absent)` when the implementation under
    test is declared without it (`ssmspec.scope.declared`)."""
    return st.just(absent) if scope.lacks(name) else present


def in_scope(prefix: str, values) -> list:
    """The `values` whose feature `prefix + value` (e.g. `layout=step`) is not lacked."""
    return [v for v in values if not scope.lacks(f"{prefix}{v}")]
