"""Causal convolution: FFT against the direct sum, as ratios measured in one run.

The crossover length (the shortest L at which the FFT is faster) is measured and recorded in the
benchmark JSON's extra_info; the gate is on the long end, where O(L log L) must beat O(L·L_K):
at L = L_K = 4096 (fp32, 64 channels) the FFT must be at least `FLOOR_AT_4096` times faster.
Measured on a 2-core x86 CPU with torch 2.13: FFT faster at every L from 8 up (no crossover in
[8, 4096]; conv1d's fixed cost dominates short lengths), 21× at 4096.
"""

from __future__ import annotations

import statistics

import pytest
import torch

from ssmspec import harness, registry
from ssmspec.impl.convolution import causal_conv

LENGTHS = (8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
FLOOR_AT_4096 = 5.0


@pytest.mark.parametrize("device", registry.devices())
def test_fft_vs_direct_crossover(benchmark, device):
    g = torch.Generator().manual_seed(0)
    ratios = {}
    for L in LENGTHS:
        u = torch.randn(1, 64, L, generator=g).to(device)
        K = torch.randn(64, L, generator=g).to(device)
        t_fft, t_direct = [], []
        for _ in range(3):  # interleaved
            for method, out in (("fft", t_fft), ("direct", t_direct)):
                out += harness.time_call(lambda u=u, K=K, m=method: causal_conv(u, K, method=m),
                                         device, repeats=3, min_time=0.01)
        ratios[L] = statistics.median(t_direct) / statistics.median(t_fft)
    faster = [L for L in LENGTHS if ratios[L] > 1]
    crossover = faster[0] if faster and all(ratios[L] > 1 for L in LENGTHS if L >= faster[0]) \
        else None
    benchmark.extra_info.update(direct_over_fft={str(k): v for k, v in ratios.items()},
                                crossover_length=crossover, floor_at_4096=FLOOR_AT_4096)
    benchmark(lambda: causal_conv(u, K, method="fft"))
    print(f"\n{device}: direct/fft time by L: " +
          ", ".join(f"{L}: {r:.2f}" for L, r in ratios.items()) +
          f"; FFT faster from L = {crossover}")
    assert ratios[4096] >= FLOOR_AT_4096, f"FFT only {ratios[4096]:.1f}x the direct sum at 4096"
