import numpy as np
import pytest
import torch

from ssmspec.dtypes import DTYPES, complex_of, dtype, real_of, round_to, ulp


@pytest.mark.parametrize("name, fin", [("fp64", np.float64), ("fp32", np.float32),
                                       ("fp16", np.float16)])
def test_constants_match_numpy_finfo(name, fin):
    d, f = dtype(name), np.finfo(fin)
    assert d.u == f.eps / 2
    assert d.max == f.max
    assert d.tiny == f.tiny
    assert d.eta == f.smallest_subnormal


def test_bf16_constants_match_torch():
    f = torch.finfo(torch.bfloat16)
    d = dtype("bf16")
    assert d.u == f.eps / 2 and d.max == f.max and d.tiny == f.tiny


@pytest.mark.parametrize("name", ["fp64", "fp32", "fp16"])
def test_ulp_is_numpy_spacing(name):
    fin = {"fp64": np.float64, "fp32": np.float32, "fp16": np.float16}[name]
    x = np.array([0.0, 1e-30, 1e-5, 0.3, 1.0, 1.5, 1000.0, -7.25], dtype=fin)
    x = x[np.isfinite(x)]
    assert np.array_equal(ulp(x.astype(np.float64), name), np.abs(np.spacing(x)).astype(np.float64))


def test_round_to_is_idempotent_and_exact():
    rng = np.random.default_rng(0)
    x = rng.normal(size=100) * 10.0 ** rng.uniform(-8, 4, 100)
    for name in ("fp32", "fp16", "bf16"):
        r = round_to(x, name)
        assert np.array_equal(round_to(r, name), r)
        assert np.array_equal(torch.from_numpy(r).to(dtype(name).torch).double().numpy(), r)
    z = x + 1j * x[::-1]
    rz = round_to(z, "c64")
    assert np.array_equal(rz.real, round_to(z.real, "fp32"))


def test_round_to_keeps_zero_dim_shape():
    assert round_to(np.array(0.1), "fp16").shape == ()


def test_round_to_refuses_complex_to_real():
    with pytest.raises(TypeError, match="complex"):
        round_to(np.array([1j]), "fp32")


def test_lookup_errors_name_the_argument():
    with pytest.raises(ValueError, match="dtype"):
        dtype("fp8")
    with pytest.raises(ValueError, match="dtype"):
        dtype(torch.int32)
    assert real_of("c64").name == "fp32" and complex_of("fp64").name == "c128"
    assert set(DTYPES) == {"fp64", "fp32", "fp16", "bf16", "c64", "c128"}
