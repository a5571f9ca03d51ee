"""Mega's EMA layer forward (kernel + FFT convolution + ω x + SiLU) against the official path,
as ratios measured in one run: D = 256, ndim = 16, batch 4, L = 8192, fp32.

The official path is transcribed here from facebookresearch/mega
`fairseq/modules/exponential_moving_average.py` (`MultiHeadEMA._compute_kernel` and `forward`,
unidirectional): a materialised (D, ndim, L) Vandermonde exp(l·log q), the kernel by einsum,
Mega's FFT convolution with fft length 2L, + ω x, SiLU. Gate: ours at least `TIME_FLOOR` times
faster. Peak memory of both (the growth of a fresh subprocess's VmHWM across the one call,
inputs already built) is recorded and printed, not gated.

Side by side with lucidrains' `mega-pytorch` (module `mega_pytorch`, its `MultiHeadedEMA` with
dim = 256, heads = 16 at the same batch and length): a different function (its own damping
parameterisation and head expansion, docs/kernels.md#ema_kernel), so only its speed is compared
and stated.
"""

from __future__ import annotations

import statistics

import pytest
import torch

from ssmspec import harness

TIME_FLOOR = 2.0

SETUP = """
import math, torch
import torch.nn.functional as F
from ssmspec.impl.ema import ema
torch.manual_seed(0)
batch, D, n, L = 4, 256, 16, 8192
delta = torch.randn(D, n, 1) * 0.2
alpha = torch.randn(D, n, 1) * 0.2
sign = torch.ones(n, 1)
sign[1::2] = -1.0
beta = sign + torch.randn(D, n, 1) * 0.02
gamma, omega = torch.randn(D, n), torch.randn(D)
x = torch.randn(batch, D, L)


def official():
    # MultiHeadEMA (commit cfc14f2 naming: p = sigmoid(delta), q = 1 - p * sigmoid(alpha))
    p = torch.sigmoid(delta)
    q = 1.0 - p * torch.sigmoid(alpha)
    vander = torch.arange(L).to(p).view(1, 1, L) * torch.log(q)
    kernel = (p * beta) * torch.exp(vander)
    k = torch.einsum("dnl,dn->dl", kernel, gamma * math.sqrt(1.0 / n))
    fft_len = 2 * L
    out = torch.fft.irfft(torch.fft.rfft(x, n=fft_len) * torch.fft.rfft(k, n=fft_len),
                          n=fft_len)[..., :L]
    return F.silu(out + omega[:, None] * x)


def ours():
    return ema(x, (delta, alpha, beta, gamma), omega)
"""


def test_ema_forward_vs_official_mega(benchmark):
    ns: dict = {}
    exec(SETUP, ns)
    a, b = ns["ours"](), ns["official"]()
    assert float((a - b).abs().max()) <= 1e-3 * float(b.abs().max())  # one function

    t_ours, t_off = [], []
    for _ in range(3):  # interleaved
        t_off += harness.time_call(ns["official"], "cpu", repeats=1, min_time=0)
        t_ours += harness.time_call(ns["ours"], "cpu", repeats=1, min_time=0)
    speed = statistics.median(t_off) / statistics.median(t_ours)
    mem_off, mem_ours = harness.peak_kib(SETUP, "official()"), harness.peak_kib(SETUP, "ours()")
    benchmark.extra_info.update(speedup=speed, peak_kib_ours=mem_ours, peak_kib_official=mem_off,
                                median_s_ours=statistics.median(t_ours),
                                median_s_official=statistics.median(t_off))
    benchmark.pedantic(ns["ours"], rounds=3, iterations=1)
    print(f"\nEMA forward: {speed:.2f}x faster than the official path "
          f"({statistics.median(t_ours) * 1e3:.0f} ms vs {statistics.median(t_off) * 1e3:.0f} ms); "
          f"peak memory {mem_ours / 1024:.0f} MiB vs {mem_off / 1024:.0f} MiB")
    assert speed >= TIME_FLOOR, f"only {speed:.2f}x faster (floor {TIME_FLOOR}x)"


def test_ema_forward_side_by_side_with_mega_pytorch(benchmark):
    mega_pytorch = pytest.importorskip(
        "mega_pytorch", reason="mega-pytorch is not installed (pip install '.[perf]')")
    ns: dict = {}
    exec(SETUP, ns)
    layer = mega_pytorch.mega_pytorch.MultiHeadedEMA(dim=256, heads=16)
    xt = ns["x"].transpose(1, 2).contiguous()  # mega-pytorch is (batch, L, dim)

    def theirs():
        with torch.no_grad():
            return layer(xt)

    t_ours, t_theirs = [], []
    for _ in range(2):
        t_theirs += harness.time_call(theirs, "cpu", repeats=1, min_time=0)
        t_ours += harness.time_call(ns["ours"], "cpu", repeats=1, min_time=0)
    out = theirs()
    assert out.shape == xt.shape and bool(torch.isfinite(out).all())  # it ran the same shape
    ratio = statistics.median(t_theirs) / statistics.median(t_ours)
    benchmark.extra_info.update(speedup_vs_mega_pytorch=ratio)
    benchmark.pedantic(theirs, rounds=1, iterations=1)
    print(f"\nEMA forward vs mega-pytorch MultiHeadedEMA (dim 256, heads 16): ours {ratio:.2f}x "
          "faster (different functions: speed only)")
