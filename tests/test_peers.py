"""What ssmspec finds about two PyPI peers of `linear_scan` (the `perf` extra; `tox -e peers`).

- `accelerated-scan` 0.3.1, `accelerated_scan.ref.scan` (its reference torch scan, a tree over a
  power-of-two padding): same convention as ssmspec (x_t = a_t x_{t−1} + b_t over the last dim,
  `reverse` meaning x_t = a_t x_{t+1} + b_t); no initial state (the adapter folds h0 into the first
  token). Within the bound in every format on every input it accepts, but it raises on L = 1:
  T = 1 pads to 1, a tree of 0 levels, and its `split` cannot halve one element.
- `s5-pytorch` 0.2.1, `s5.jax_compat.associative_scan` with S5's `binary_operator`: the same
  convention, reverse by flipping; within the bound in every format, all laws hold.
Both are checked through the adapters in `ssmspec.peers`, with the properties' own bounds.
"""

import pytest

from ssmspec import check, harness, registry, verdict
from ssmspec.plugins import outside
from ssmspec.specs.scans import make_case
from ssmspec.strategies import boundary_lengths

pytest.importorskip("accelerated_scan", reason="the perf extra (tox -e peers) installs it")
pytest.importorskip("s5", reason="the perf extra (tox -e peers) installs s5-pytorch")

FORMATS = ("fp64", "fp32", "bf16", "c64")


def _impl(target, adapter):
    return outside("linear_scan", target, adapter=adapter, methods=["associative"])


def test_s5_pytorch_associative_scan_passes_search_and_laws():
    impl = _impl("s5.jax_compat:associative_scan", "ssmspec.peers:s5_associative_scan")
    res = check.check("linear_scan", impl, dtypes=FORMATS, examples=40, bad_inputs=False)
    print("\n" + verdict.to_text(res, "s5-pytorch"))
    assert res.passed


def test_accelerated_scan_ref_fails_only_at_length_one():
    impl = _impl("accelerated_scan.ref:scan", "ssmspec.peers:accelerated_scan")
    spec = registry.spec("linear_scan")
    import numpy as np

    rng = np.random.default_rng(0)
    for L in boundary_lengths(1025):
        for fmt in FORMATS:
            a = rng.uniform(0.5, 1.0, (3, L))
            b = rng.normal(size=(3, L))
            if fmt == "c64":
                a, b = a * np.exp(1j * rng.uniform(-1, 1, (3, L))), b + 1j * b[::-1]
            for reverse in (False, True):
                case = make_case(fmt, a, b, h0=rng.normal(size=3) if fmt != "c64" else None,
                                 reverse=reverse)
                m = harness.evaluate(spec, impl.fn, case, "associative", "cpu")
                if L == 1:
                    assert m.raised and "invalid for input of size" in m.raised, m.describe()
                else:
                    assert m.passed, f"L={L} {fmt} reverse={reverse}: {m.describe()}"
    res = check.check("linear_scan", impl, dtypes=FORMATS, examples=40, laws=False,
                      bad_inputs=False)
    print("\n" + verdict.to_text(res, "accelerated-scan"))
    for s in res.searches:
        assert s.worst is not None and s.worst.passed, s.worst.describe()
        assert all(c.kind == "raised" and c.witness.arrays["a"].shape[-1] == 1
                   for c in s.classes.values()), [c.key for c in s.classes.values()]
