"""The spec infrastructure: frozen specs, one registration site, `Case.with_`, `Bound(terms=)`,
`TwoTier`, and the law runner (`ssmspec.laws`): only a law's own verdict catches a mutant."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ssmspec import registry, selftest
from ssmspec.laws import LawFailed, assert_within, run_law
from ssmspec.spec import Bound, Case, Implementation, Law, Mutant, Terms, TwoTier
from ssmspec.specs.scans import make_case


def _small_scan(fmt: str = "fp64") -> Case:
    rng = np.random.default_rng(0)
    return make_case(fmt, rng.uniform(0.5, 0.9, (2, 6)), rng.normal(size=(2, 6)))


@pytest.mark.parametrize("copy", [lambda c: dataclasses.replace(c, arrays={
    **c.arrays, "b": c.arrays["b"] + 1}), lambda c: c.with_(b=c.arrays["b"] + 1)],
    ids=["replace", "with_"])
def test_a_copied_case_never_carries_a_stale_tensor_cache(copy):
    case = _small_scan()
    before = case.tensor("b").clone()
    changed = copy(case)
    assert np.array_equal(changed.tensor("b").numpy(), before.numpy() + 1)
    assert np.array_equal(case.tensor("b").numpy(), before.numpy())


def test_with_replaces_arrays_and_params():
    case = _small_scan().with_(reverse=True, h0=np.zeros(2))
    assert case.params["reverse"] is True
    assert np.array_equal(case.arrays["h0"], np.zeros(2))
    assert case.with_(dtype="fp32").dtype == "fp32"


def test_spec_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        registry.spec("linear_scan").sweep = None


def test_register_spec_rejects_parts_of_another_primitive():
    spec = dataclasses.replace(registry.spec("linear_scan"), name="linear_scan_copy")
    impl = Implementation("linear_scan", "torch", None)
    with pytest.raises(ValueError, match="linear_scan_copy"):
        registry.register_spec(spec, implementations=[impl])
    assert "linear_scan_copy" not in {s.name for s in registry.specs()}


def test_bound_from_one_terms_function():
    case = _small_scan()
    b = Bound(c={"m": 2.0}, outputs=("h",),
              terms=lambda case, method, d: {"h": Terms(np.full((2, 6), 3.0), 1.0)})
    want = 2.0 * 2.0**-53 * 3.0 + 3.0 * 2.0**-1074
    assert np.allclose(b(case, "m")["h"], want, rtol=1e-12)
    with pytest.raises(ValueError, match="outputs"):
        Bound(c={"m": 1.0}, outputs=("y",), terms=lambda c, m, d: {"h": (1.0, 1.0)})(case, "m")
    with pytest.raises(TypeError, match="terms"):
        Bound(c={"m": 1.0})


def test_two_tier_switches_on_work():
    t = TwoTier(mp=lambda c, m: {"x": 0}, np=lambda c, m: {"x": 1}, mp_max_work=24)
    assert t.tier(_small_scan()) == "mp"  # 2·6 + 2·6 entries
    assert TwoTier(mp=t.mp, np=t.np, mp_max_work=23).tier(_small_scan()) == "np"
    assert set(t.references) == {"mp", "np"}


def test_assert_within():
    assert_within(np.zeros(0), np.zeros(0), 0.0, "empty")  # nothing to compare passes
    assert_within(np.ones(3), np.ones(3) + 1e-9, 1e-8, "close")
    with pytest.raises(LawFailed, match=r"far: err/tol 1e\+0?8 at \(1,\)"):
        assert_within(np.array([1.0, 2.0]), np.array([1.0, 3.0]), 1e-8, "far")


def _law(check) -> Law:
    return Law(check.__name__, "a law for the test", check, ("fp64",), primitive="linear_scan")


def _crashes(ctx):
    raise RuntimeError("shape mismatch: (2, 6) vs (2, 5)")


def _breaks(ctx):
    raise LawFailed("h: err/tol 12 at (0, 3)")


def _holds(ctx):
    ctx.draw(__import__("hypothesis").strategies.integers(0, 3))


def test_run_law_tells_failed_from_crashed():
    impl = registry.implementation("linear_scan", "torch")
    assert run_law(_law(_holds), impl, "fp64", examples=3).passed
    assert run_law(_law(_breaks), impl, "fp64", examples=3).failed
    crashed = run_law(_law(_crashes), impl, "fp64", examples=3)
    assert crashed.crashed and "shape mismatch" in crashed.reason


def test_selftest_does_not_count_a_crashing_law_as_catching(monkeypatch):
    """A law that raises for an unrelated reason (here a shape mismatch) says nothing about the
    mutant; only a law's own verdict catches it."""
    torch_fn = registry.implementation("linear_scan", "torch").fn
    harmless = Mutant("harmless", torch_fn, "sequential", ("fp64",),
                      "the built-in itself", lambda fmt: _small_scan(fmt), search=False,
                      primitive="linear_scan")
    monkeypatch.setattr(registry, "laws", lambda primitive=None: [_law(_crashes)])
    r = selftest.run_mutant(harmless, law_examples=2)
    assert not r.caught, r.caught_by
    monkeypatch.setattr(registry, "laws", lambda primitive=None: [_law(_breaks)])
    assert selftest.run_mutant(harmless, law_examples=2).caught


def test_a_spec_takes_its_tiers_from_a_two_tier():
    t = TwoTier(mp=lambda c, m: {"x": 0}, np=lambda c, m: {"x": 1}, mp_max_work=24)
    spec = dataclasses.replace(registry.spec("linear_scan"), references=t, reference_tier=None)
    assert spec.reference(_small_scan(), "sequential") == {"x": 0}
    with pytest.raises(TypeError, match="reference_tier"):
        dataclasses.replace(spec, references={"mp": t.mp}, reference_tier=None)


def test_check_reports_a_crashing_law_as_crashed(monkeypatch):
    from ssmspec import check

    monkeypatch.setattr(registry, "laws", lambda primitive=None: [_law(_crashes), _law(_breaks)])
    res = check.check("linear_scan", registry.implementation("linear_scan", "torch"),
                      methods=("sequential",), dtypes=("fp64",), examples=2, shrink=False,
                      diagnose=False)
    crashed, broken = res.outcomes
    assert crashed.crashed and crashed.error.startswith("crashed: RuntimeError")
    assert not broken.crashed and "err/tol 12" in broken.error


def test_register_spec_stamps_its_parts_and_refuses_another_primitive(monkeypatch):
    """Laws, mutants and bad-input rows given to `register_spec` get the spec's name; an
    implementation mapping becomes Implementation records; a part naming another primitive is
    an error."""
    spec = dataclasses.replace(registry.spec("linear_scan"), name="linear_scan_copy")
    monkeypatch.setattr(registry, "_SPECS", dict(registry._SPECS))
    monkeypatch.setattr(registry, "_IMPLS", dict(registry._IMPLS))
    for name in ("_LAWS", "_MUTANTS", "_BAD"):
        monkeypatch.setattr(registry, name, list(getattr(registry, name)))
    fn = registry.implementation("linear_scan", "torch").fn
    registry.register_spec(
        spec, implementations={"torch": fn},
        laws=[Law("crashes", "a law for the test", _crashes, ("fp64",))],
        bad_inputs=[("a 0-d", "a", ValueError, lambda f: f(np.zeros(())))])
    assert registry.implementation("linear_scan_copy", "torch").primitive == "linear_scan_copy"
    assert [b.primitive for b in registry.bad_inputs("linear_scan_copy")] == ["linear_scan_copy"]
    assert [law.primitive for law in registry.laws("linear_scan_copy")] == ["linear_scan_copy"]
    other = dataclasses.replace(spec, name="linear_scan_other")
    with pytest.raises(ValueError, match="names primitive 'linear_scan'"):
        registry.register_spec(other, laws=[_law(_crashes)])


def test_selftest_runs_each_of_two_mutants_of_one_name():
    """linear_scan declares `eps_clamp` twice (fp64 searched, fp32 witness only): each is run,
    neither lost to a lookup by name (which once made both 'missed' with no reason shown)."""
    results = selftest.run(["linear_scan"], examples=5, law_examples=1)
    eps = [r for r in results if r.name == "eps_clamp"]
    assert len(eps) == 2 and all(r.caught for r in eps), eps
