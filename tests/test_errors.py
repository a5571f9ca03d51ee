import mpmath
import numpy as np
import pytest

from ssmspec.errors import abs_error, higham_bound, measure, ratio


def test_abs_error_against_mpmath_is_exact():
    with mpmath.workdps(50):
        third = mpmath.mpf(1) / 3
    ref = np.array([third], dtype=object)
    got = np.array([float(third)])
    err = abs_error(got, ref)
    # float(1/3) differs from 1/3 by about 1.85e-17; a float64 reference would say 0.
    assert 1e-17 < err[0] < 2e-17
    assert abs_error(got, np.array([float(third)]))[0] == 0


def test_nonfinite_handling():
    got = np.array([np.nan, np.inf, 1.0, np.nan])
    ref = np.array([np.nan, np.inf, 1.0, 2.0])
    assert list(abs_error(got, ref)) == [0, 0, 0, np.inf]


def test_ratio_conventions():
    assert list(ratio([0.0, 1.0, 2.0], [0.0, 0.0, 4.0])) == [0.0, np.inf, 0.5]


def test_higham_bound_has_underflow_floor():
    b = higham_bound(4.0, "fp32", 1.0, 0.0)
    assert b == 2.0**-149


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shape"):
        abs_error(np.zeros(2), np.zeros(3))


def test_measure_elementwise_and_frobenius():
    ref = {"y": np.array([1.0, 2.0]), "M": np.eye(2)[None]}
    got = {"y": np.array([1.0, 2.0 + 1e-6]), "M": np.eye(2)[None] + 3e-3}
    bounds = {"y": np.array([1e-9, 1e-5]), "M": np.array([1e-2])}
    m = measure(got, ref, bounds, "fp32", {"M": "fro"})
    assert m.outputs["y"].max_ratio == pytest.approx(0.1, rel=1e-6)
    assert m.outputs["y"].index == (1,)
    assert m.outputs["M"].max_ratio == pytest.approx(0.6, rel=1e-6)  # ‖3e-3·ones‖_F = 6e-3
    assert m.passed
    got["y"][0] = 1.0 + 1e-8
    assert not measure(got, ref, bounds, "fp32", {"M": "fro"}).passed
    # ulps are in the output's format: 1e-6 at 2.0 is 1e-6 / 2^-22 ≈ 4.19 fp32 ulps
    assert m.outputs["y"].max_ulps == pytest.approx(1e-6 / 2.0**-22, rel=1e-6)


def test_ulps_skip_exact_zeros_of_the_reference():
    ref = {"y": np.array([0.0, 1.0])}
    got = {"y": np.array([1e-20, 1.0 + 2.0**-52])}
    m = measure(got, ref, {"y": np.array([1e-15, 1e-15])}, "fp64")
    assert m.outputs["y"].max_ulps == pytest.approx(1.0)
