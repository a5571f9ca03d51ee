"""Shapes under the user's control: sizes fixed by name (`--size`), the realistic regime, the
work budget, the CLI and pytest options, and the realistic-size sharpness entries."""

import re

import numpy as np
import pytest

from ssmspec import cli, harness, registry, sharpness, strategies
from ssmspec.strategies import ShapeScope


def _draw(spec, scope, n=3, fmt=None, method=None):
    fmt = fmt or spec.dtypes[0]
    method = method or spec.methods[0]
    return harness.sample(strategies.cases(spec, fmt, method, scope), n)


@pytest.mark.parametrize("spec", registry.specs(), ids=lambda s: s.name)
def test_every_declared_size_is_in_the_signature_and_drawn_through_the_scope(spec):
    assert spec.sizes, f"{spec.name}: declares no size parameters"
    for name in spec.sizes:
        assert re.search(rf"\b{re.escape(name)}\b", spec.signature), (spec.name, name)
    scope = ShapeScope()
    _draw(spec, scope)
    assert set(spec.sizes) <= scope.drawn, (spec.name, sorted(set(spec.sizes) - scope.drawn))


def test_fixed_sizes_reach_the_arrays():
    spec = registry.spec("diag_kernel")
    for case in _draw(spec, ShapeScope(fixed={"H": 5, "N": 3, "L": 7}), n=5, fmt="c64"):
        assert case.arrays["Lambda"].shape == (5, 3) and case.params["L"] == 7
    spec = registry.spec("selective_scan")
    for case in _draw(spec, ShapeScope(fixed={"b": 2, "D": 3, "N": 4, "L": 9}), n=5):
        assert case.arrays["u"].shape == (2, 3, 9) and case.arrays["A"].shape == (3, 4)


def test_a_size_of_a_sub_strategy_is_not_fixed_for_a_primitive_without_it():
    """diag_step draws a diag_kernel case of length 1: an L fixed for a run stays out of it."""
    spec = registry.spec("diag_step")
    for case in _draw(spec, ShapeScope(fixed={"L": 4096, "H": 2}), n=3, fmt="c64"):
        assert case.arrays["Lambda"].shape[0] == 2 and case.params.get("L", 1) == 1


def test_realistic_regime_draws_shipping_sizes_within_the_work_budget():
    from dataclasses import replace

    # a smaller budget than the spec's own, so the test draws arrays of MBs, not 100s of MBs
    spec = replace(registry.spec("selective_scan"), realistic_work=2**21)
    cases = _draw(spec, ShapeScope(regime="realistic"), n=4, fmt="fp32")
    real = strategies.REALISTIC_SIZES
    for case in cases:
        b, D, L = case.arrays["u"].shape
        N = case.arrays["A"].shape[-1]
        assert b in real["batch"] and D in real["D"] and N in real["N"] and L in real["L"]
        assert b * D * N * L <= spec.work_of("zoh_approx")


def test_an_early_size_leaves_room_for_the_smallest_later_ones():
    """causal_conv draws L before B and H: L may not take the whole budget."""
    from hypothesis import strategies as st

    scope = ShapeScope(regime="realistic", names=("L", "B", "H"), work=2**20)

    @st.composite
    def three(draw):
        with strategies.shape_scope(scope.fresh()):
            return tuple(draw(strategies.size(n, st.just(1))) for n in ("L", "B", "H"))

    got = harness.sample(three(), 25)
    assert all(L * B * H <= 2**20 for L, B, H in got)
    assert max(L for L, _, _ in got) == 2**20 // 64  # the longest that leaves room for H = 64


def test_large_arrays_are_drawn_from_a_pool_and_keep_their_special_values():
    from hypothesis import strategies as st

    a = harness.sample(strategies.arrays((64, 64), st.sampled_from([0.0, -1e-12, -3.0])), 4)
    assert all(x.shape == (64, 64) for x in a)
    assert any(np.any(x == 0.0) and np.any(x == -3.0) for x in a)


@pytest.mark.parametrize("text, message", [
    ("Q=3", "has no size 'Q'; its sizes are H, N, L"),
    ("L", "expected NAME=VALUE"),
    ("L=abc", "expected a positive int"),
    ("L=0", "expected a positive int"),
])
def test_bad_sizes_are_clear_errors(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        strategies.parse_sizes([text], registry.spec("diag_kernel").sizes, "diag_kernel")
    with pytest.raises(SystemExit, match=re.escape(message)):
        cli.main(["check", "diag_kernel", "torch", "--size", text])


def test_check_at_a_shipping_size(capsys):
    """The issue's size for S4D: H = 256, N = 64, L = 4096 in c64, one input."""
    rc = cli.main(["check", "diag_kernel", "torch", "--size", "L=4096", "--size", "N=64",
                   "--size", "H=256", "--dtype", "c64", "--method", "zoh", "--examples", "1",
                   "--no-laws", "--no-bad-input"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "shapes: L=4096, N=64, H=256 fixed" in out
    assert "--size L=4096 --size N=64 --size H=256" in out  # the reproduce command keeps them


def test_the_verdict_names_the_shapes():
    from ssmspec.check import describe_shapes

    assert describe_shapes(ShapeScope(regime="realistic")) == "sizes from the realistic regime"
    assert describe_shapes(ShapeScope(fixed={"L": 8})) == (
        "L=8 fixed; the other sizes as the spec draws them")


def test_session_shapes_from_the_environment(monkeypatch):
    monkeypatch.setenv("SSMSPEC_SIZES", "L=33,N=2")
    monkeypatch.setenv("SSMSPEC_REGIME", "realistic")
    s = strategies.session_shapes()
    assert s.fixed == {"L": 33, "N": 2} and s.regime == "realistic"
    monkeypatch.setenv("SSMSPEC_REGIME", "huge")
    with pytest.raises(ValueError, match="SSMSPEC_REGIME"):
        strategies.session_shapes()
    monkeypatch.delenv("SSMSPEC_SIZES")
    monkeypatch.delenv("SSMSPEC_REGIME")
    assert strategies.session_shapes() is None


def test_sharpness_entry_measures_the_benchmark_and_realistic_inputs():
    spec = registry.spec("linear_scan")
    impl = registry.implementation("linear_scan", "torch")
    e = sharpness.measure(spec, impl, "sequential", examples=1)
    assert e["dtype"] == "c64" and [i["input"] for i in e["inputs"]] == ["benchmark", "realistic"]
    assert e["passed"] and e["sharpness"] == max(i["err_over_bound"] for i in e["inputs"])
    assert e["sharp"] == (e["sharpness"] >= sharpness.GOAL)
    md = "\n".join(sharpness.to_markdown([e]))
    assert "| linear_scan | sequential | c64 |" in md
