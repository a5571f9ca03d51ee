"""The bounds can fail: every registered mutant (a known-bad variant) exceeds its bound, on a
named witness input and, where stated, on an input hypothesis finds from the spec's own strategy
(`ssmspec.laws.find_over_bound`); the built-in implementation passes on the same witness."""

from __future__ import annotations

import pytest

from ssmspec import harness, registry
from ssmspec.laws import find_over_bound

CASES = [pytest.param(m, d, id=f"{m.primitive}-{m.name}-{d}")
         for m in registry.mutants() for d in m.dtypes]


@pytest.mark.parametrize("mutant, fmt", CASES)
def test_mutant_caught_on_witness(mutant, fmt):
    spec = registry.spec(mutant.primitive)
    case = mutant.witness(fmt)
    bad = harness.evaluate(spec, mutant.fn, case, mutant.method, "cpu")
    assert bad.max_ratio > 1, f"{mutant.name} not caught: {bad.describe()}"
    good = harness.evaluate(spec, registry.implementation(mutant.primitive, "torch").fn, case,
                            mutant.method, "cpu")
    assert good.passed, f"built-in fails the witness of {mutant.name}: {good.describe()}"


@pytest.mark.parametrize("mutant, fmt", [c for c in CASES if c.values[0].search])
def test_mutant_found_by_search(mutant, fmt):
    spec = registry.spec(mutant.primitive)
    found = find_over_bound(spec, mutant.fn, mutant.method, fmt, examples=500)
    assert found is not None, f"{mutant.name}: no input over the bound in 500 draws"
    assert harness.evaluate(spec, mutant.fn, found, mutant.method, "cpu").max_ratio > 1
