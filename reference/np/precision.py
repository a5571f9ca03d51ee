"""The working precision of the float64 tier's extended sums: long double where the format under
test needs it, float64 where float64 already suffices.

The float64 references sum in long double (80-bit extended on x86, u = 2⁻⁶⁴) so that their own
error stays far below an fp64 implementation's bound at long L. For the formats with u ≥ 2⁻²⁴
(fp32, c64, fp16, bf16) float64 is already 2²⁹ times more precise than the format, so the same
formulas in float64 (vectorised, with BLAS) are an exact-enough reference and run one to two
orders of magnitude faster — what makes references at realistic sizes (L to 2¹⁶) affordable.

`LD()` and `CLD()` are the real and complex working types in force; `extended(False)` switches to
float64 for a block. The default is extended.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

import numpy as np

_EXTENDED: contextvars.ContextVar[bool] = contextvars.ContextVar("ssmspec_np_extended",
                                                                 default=True)

# float64 suffices for a format whose unit roundoff is at least this (2⁻²⁴: fp32 and coarser)
FLOAT64_ENOUGH_U = 2.0**-24


def LD() -> type:  # noqa: N802 - reads like the type it returns
    """The real working type: np.longdouble, or np.float64 inside `extended(False)`."""
    return np.longdouble if _EXTENDED.get() else np.float64


def CLD() -> type:  # noqa: N802
    """The complex working type: np.clongdouble, or np.complex128 inside `extended(False)`."""
    return np.clongdouble if _EXTENDED.get() else np.complex128


def is_extended() -> bool:
    return _EXTENDED.get()


@contextlib.contextmanager
def extended(on: bool) -> Iterator[None]:
    """Run a block with long double (on) or float64 (off) as the working precision."""
    token = _EXTENDED.set(bool(on))
    try:
        yield
    finally:
        _EXTENDED.reset(token)


def for_unit_roundoff(u: float) -> contextlib.AbstractContextManager:
    """The working precision a format of unit roundoff `u` needs (float64 for u ≥ 2⁻²⁴)."""
    return extended(u < FLOAT64_ENOUGH_U)


def fftconvolve(a: np.ndarray, b: np.ndarray, axes=None) -> np.ndarray:
    """`scipy.signal.fftconvolve(a, b, axes=axes)`: the full linear convolution by FFT (length
    len(a) + len(b) − 1 along `axes`), float64/complex128 in, same kind out; `a`, `b` broadcast
    outside `axes`.

    scipy.signal is imported here, on the first call, not when a reference module is imported:
    it costs ~1.7 s (it pulls in scipy.stats), paid by every process that loads the registry (each
    worker of `ssmspec report --workers N`), while only the float64 path at long L calls it."""
    import scipy.signal

    return scipy.signal.fftconvolve(a, b, axes=axes)
