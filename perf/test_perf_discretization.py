"""Discretisation speed, as ratios measured in one run (never absolute seconds).

Gate: the batched torch diagonal zoh on H = 1024 channels × N = 64 states must beat a per-channel
loop over scipy.signal.cont2discrete (what one writes without ssmspec) by at least
`FLOOR_VS_SCIPY_LOOP`. Both run in float64 in the same process, interleaved.
"""

from __future__ import annotations

import statistics

import numpy as np
import pytest
import scipy.signal

from ssmspec import harness, registry
from ssmspec.impl.discretization import discretize_diag

FLOOR_VS_SCIPY_LOOP = 50.0


def _scipy_per_channel(lam, b, dt):
    n = lam.shape[-1]
    out_a, out_b = np.empty_like(lam), np.empty_like(lam)
    C, D = np.zeros((1, n)), np.zeros((1, 1))
    for h in range(lam.shape[0]):
        ad, bd, *_ = scipy.signal.cont2discrete((np.diag(lam[h]), b[h][:, None], C, D), dt[h],
                                                method="zoh")
        out_a[h], out_b[h] = np.diag(ad), bd[:, 0]
    return out_a, out_b


@pytest.mark.parametrize("device", registry.devices())
def test_diag_zoh_batched_vs_per_channel_scipy_loop(benchmark, device):
    spec = registry.spec("discretize_diag")
    case = spec.bench_case("fp64")
    lam, b, dt = (case.arrays[k] for k in ("Lambda", "B", "dt"))
    args = (case.tensor("Lambda", device), case.tensor("B", device),
            case.tensor("dt", device, real=True))

    # the two agree before their speeds are compared
    got = [harness.to_numpy(t) for t in discretize_diag(*args, method="zoh")]
    want = _scipy_per_channel(lam, b, dt)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-15)

    base, ours = [], []
    for _ in range(3):  # interleaved, so drift of the machine hits both
        base += harness.time_call(lambda: _scipy_per_channel(lam, b, dt), "cpu", repeats=1,
                                  min_time=0.0)
        ours += harness.time_call(lambda: discretize_diag(*args, method="zoh"), device,
                                  repeats=3)
    ratio = statistics.median(base) / statistics.median(ours)
    benchmark.extra_info.update(ratio_vs_scipy_loop=ratio, floor=FLOOR_VS_SCIPY_LOOP,
                                scipy_loop_median_s=statistics.median(base),
                                shape=spec.bench_shape)
    benchmark(lambda: discretize_diag(*args, method="zoh"))
    print(f"\n{device}: batched torch zoh is {ratio:.0f}x the per-channel scipy loop")
    assert ratio >= FLOOR_VS_SCIPY_LOOP, f"only {ratio:.1f}x, floor {FLOOR_VS_SCIPY_LOOP}x"
