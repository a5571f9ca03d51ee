"""The error model (docs/error-model.md): errors against a reference, a-priori bounds, err/bound,
ulps.

For an output y computed in a format with unit roundoff u, a primitive's spec states

    |ŷ_i − y_i|  ≤  c · u · g_i · M_i  +  g_i · η                                   (elementwise)

or, where only a norm-wise statement is true (dense matrix functions, FFT convolution),

    ‖ŷ_k − y_k‖_F  ≤  c · u · g_k · M_k  +  g_k · η                              (per matrix k)

where M is a magnitude the reference computes on absolute values, g the growth the algorithm
admits, c a small documented constant and η the subnormal spacing of the format (Higham's
underflow term: without it a result that underflows could never pass). `err/bound ≤ 1` passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import mpmath
import numpy as np

from ssmspec.dtypes import DType, dtype, ulp


def to_float(y: np.ndarray) -> np.ndarray:
    """A reference array (float, complex, or object array of mpmath numbers) as float64 or
    complex128."""
    y = np.asarray(y)
    if y.dtype != object:
        return y
    flat = [complex(v) if isinstance(v, mpmath.mpc) or isinstance(v, complex) else float(v)
            for v in y.ravel()]
    is_c = any(isinstance(v, complex) for v in flat)
    return np.array(flat, dtype=np.complex128 if is_c else np.float64).reshape(y.shape)


def abs_error(y_hat: np.ndarray, y_ref: np.ndarray) -> np.ndarray:
    """|ŷ − y| elementwise, as float64.

    When the reference is an object array of mpmath numbers the difference is taken in mpmath, so
    the reference's own rounding to float64 does not enter the measured error. Matching NaNs and
    matching infinities count as no error; any other non-finite value is an infinite error.
    """
    y_hat = np.asarray(y_hat)
    y_ref = np.asarray(y_ref)
    if y_hat.shape != y_ref.shape:
        raise ValueError(f"abs_error: shapes differ, {y_hat.shape} vs reference {y_ref.shape}")
    if y_ref.dtype == object:
        yr = to_float(y_ref)
        err = np.array(
            [float(abs(mpmath.mpmathify(complex(h) if np.iscomplexobj(y_hat) else float(h)) - r))
             if np.isfinite(h) else np.inf
             for h, r in zip(y_hat.ravel(), y_ref.ravel())],
            dtype=np.float64,
        ).reshape(y_hat.shape)
    else:
        yr = y_ref
        with np.errstate(invalid="ignore", over="ignore"):
            err = np.abs(y_hat.astype(np.complex128) - yr.astype(np.complex128)).astype(np.float64)
    both_nan = np.isnan(y_hat) & np.isnan(yr)
    same_inf = np.isinf(y_hat) & np.isinf(yr) & (y_hat == yr)
    err = np.where(both_nan | same_inf, 0.0, err)
    return np.where(np.isnan(err), np.inf, err)


def higham_bound(c: float, d: DType | str, growth, magnitude) -> np.ndarray:
    """c · u · g · M + g · η, broadcast over the output (see the module docstring)."""
    d = dtype(d)
    g = np.asarray(growth, dtype=np.float64)
    m = np.asarray(magnitude, dtype=np.float64)
    return c * d.u * g * m + g * d.eta


NORMS = ("elementwise", "row", "fro")


def norm_error(err: np.ndarray, kind: str = "elementwise") -> np.ndarray:
    """Elementwise errors reduced as the bound is stated: `elementwise` (as they are), `row` (2-norm
    over the last axis: one figure per signal) or `fro` (Frobenius norm over the last two axes:
    one per matrix)."""
    if kind == "elementwise":
        return err
    axes = {"row": (-1,), "fro": (-2, -1)}.get(kind)
    if axes is None:
        raise ValueError(f"norm: expected one of {NORMS}, got {kind!r}")
    with np.errstate(over="ignore", invalid="ignore"):
        return np.sqrt(np.sum(np.asarray(err, float) ** 2, axis=axes))


def ratio(err: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """err/bound, with 0/0 = 0 and x/0 = inf for x > 0."""
    err, bound = np.broadcast_arrays(np.asarray(err, float), np.asarray(bound, float))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = err / bound
    r = np.where(err == 0, 0.0, r)
    return np.where(np.isnan(r), np.inf, r)


@dataclass
class OutputMeasurement:
    """err/bound and ulps of one named output."""

    name: str
    max_ratio: float
    max_ulps: float
    index: tuple  # where max_ratio is attained (of the bound's shape)
    err: float
    bound: float
    value: complex | float  # the reference value there (first entry, for a matrix norm)
    nonfinite: int = 0  # entries non-finite where the reference is not (or a different inf)
    nonfinite_index: tuple | None = None  # the first of them


@dataclass
class Measurement:
    """The result of checking one call of an implementation against its reference."""

    outputs: dict[str, OutputMeasurement] = field(default_factory=dict)
    raised: str | None = None  # the implementation raised on a valid input: err/bound = inf
    wrong_output: str | None = None  # an output of the wrong shape, dtype or device

    @property
    def failed_to_run(self) -> str | None:
        """Why no error could be measured (a raise, a wrong output), or None."""
        return self.raised or self.wrong_output

    @property
    def nonfinite(self) -> bool:
        """Whether an output holds a NaN or inf where the reference does not."""
        return any(o.nonfinite for o in self.outputs.values())

    @property
    def kind(self) -> str:
        """passed | over bound | non-finite | raised | wrong output."""
        if self.raised:
            return "raised"
        if self.wrong_output:
            return "wrong output"
        if self.nonfinite:
            return "non-finite"
        return "passed" if self.passed else "over bound"

    @property
    def max_ratio(self) -> float:
        if self.failed_to_run:
            return float("inf")
        return max((o.max_ratio for o in self.outputs.values()), default=0.0)

    @property
    def max_ulps(self) -> float:
        if self.failed_to_run:
            return float("inf")
        return max((o.max_ulps for o in self.outputs.values()), default=0.0)

    @property
    def worst(self) -> OutputMeasurement | None:
        return max(self.outputs.values(), key=lambda o: o.max_ratio, default=None)

    @property
    def passed(self) -> bool:
        return self.max_ratio <= 1.0

    def describe(self) -> str:
        if self.raised:
            return f"raised on a valid input: {self.raised}"
        if self.wrong_output:
            return f"wrong output: {self.wrong_output}"
        lines = [f"max err/bound = {self.max_ratio:.3g}, max ulps = {self.max_ulps:.3g}"]
        for o in self.outputs.values():
            lines.append(
                f"  {o.name}: err/bound {o.max_ratio:.3g} at {o.index} "
                f"(err {o.err:.3g}, bound {o.bound:.3g}, reference {o.value!r}), "
                f"ulps {o.max_ulps:.3g}"
                + (f"; {o.nonfinite} non-finite entries, the first at {o.nonfinite_index}"
                   if o.nonfinite else "")
            )
        return "\n".join(lines)


def measure(
    got: Mapping[str, np.ndarray],
    ref: Mapping[str, np.ndarray],
    bounds: Mapping[str, np.ndarray],
    d: DType | str,
    norms: Mapping[str, str] | None = None,
) -> Measurement:
    """Compare each output with its reference against its bound.

    `norms[name]` is `"elementwise"` (default), `"row"` (2-norm over the last axis, one bound per
    signal) or `"fro"` (Frobenius norm over the last two axes, one bound per matrix). ulps are
    elementwise in either case, in the format `d`, over the entries whose reference is nonzero.
    """
    d = dtype(d)
    norms = norms or {}
    out = Measurement()
    for name, y_hat in got.items():
        y_hat = np.asarray(y_hat)
        err = abs_error(y_hat, ref[name])
        y_ref = to_float(ref[name])
        # ulps where the reference is nonzero: at an exact zero any error is "infinitely many"
        # ulps of the subnormal spacing, which says nothing; err/bound judges those entries.
        nonzero = np.isfinite(y_ref) & (y_ref != 0)
        ulps = np.where(nonzero, ratio(err, ulp(np.where(nonzero, y_ref, 1.0), d)), 0.0)
        kind = norms.get(name, "elementwise")
        if kind != "elementwise":
            err_at = norm_error(err, kind)
            r = ratio(err_at, bounds[name])
        else:
            r = ratio(err, bounds[name])
            err_at = np.broadcast_to(err, r.shape)
        flat = int(np.argmax(r)) if r.size else 0
        idx = np.unravel_index(flat, r.shape) if r.size else ()
        b = np.broadcast_to(np.asarray(bounds[name], float), r.shape)
        vflat = y_ref[idx] if y_ref.ndim == r.ndim else y_ref[idx].ravel()[0] if r.size else 0
        bad = np.isinf(err)
        first_bad = (tuple(int(i) for i in np.argwhere(bad)[0]) if bad.any() else None)
        out.outputs[name] = OutputMeasurement(
            name=name,
            max_ratio=float(r.max()) if r.size else 0.0,
            max_ulps=float(ulps.max()) if ulps.size else 0.0,
            index=tuple(int(i) for i in idx),
            err=float(err_at[idx]) if r.size else 0.0,
            bound=float(b[idx]) if r.size else 0.0,
            value=complex(vflat) if np.iscomplexobj(y_ref) else float(vflat),
            nonfinite=int(bad.sum()),
            nonfinite_index=first_bad,
        )
    return out
