"""Every benchmark input runs through its spec's adapter for every method (the report times
exactly these calls; a benchmark input that only suits one method crashed the main job once)."""

import time

import pytest

from ssmspec import harness, registry

PAIRS = [pytest.param(s, m, id=f"{s.name}-{m}") for s in registry.specs() for m in s.methods]


@pytest.mark.parametrize("spec, method", PAIRS)
def test_benchmark_input_runs_for_every_method(spec, method):
    fmt = next(d for d in spec.dtypes_of(method))
    impl = registry.implementation(spec.name, "torch")
    case = spec.bench_for(fmt, method)
    t0 = time.perf_counter()
    outs = harness.run(spec, impl.fn, case, method, "cpu")
    assert set(outs) == set(spec.outputs)
    assert time.perf_counter() - t0 < 60, "a benchmark input should time in seconds"
