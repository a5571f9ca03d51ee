"""selective_scan (fp32, batch 2, D 256, N 16, L 2048, per-step B/C, D, z, delta_bias, softplus)
against the per-step loop that materialises exp(ΔA) and ΔB·u for all L as (batch, D, L, N)
tensors (how Mamba's `selective_scan_ref` does it; our own transcription): time and peak memory
as ratios measured in one run, interleaved. Gates: at most a quarter of the loop's peak memory
(growth of a fresh subprocess's VmHWM across the call, inputs built first), in no more than its
time (speed ratio ≥ 1.0). ssd_scan against selective_scan with A constant per head is measured
and printed, not gated (their ratio depends on the BLAS and the thread count).

Tried for speed: chunk T = 32 (16 doubles the chunk-level scan's levels, 64 the per-step tensors'
size for nothing); the two passes re-form exp(ΔA) instead of storing it (memory is the point).
"""

from __future__ import annotations

import statistics

from ssmspec import harness

MEMORY_FLOOR = 4.0
TIME_FLOOR = 1.0

SETUP = """
import torch, torch.nn.functional as F
from ssmspec.impl.selective import selective_scan, ssd_scan
torch.manual_seed(0)
b, D, N, L = 2, 256, 16, 2048
u, delta, z = torch.randn(b, D, L), torch.randn(b, D, L) - 4, torch.randn(b, D, L)
A = -torch.arange(1.0, N + 1).expand(D, N).contiguous()
B, C = torch.randn(b, N, L), torch.randn(b, N, L)
Dv, bias = torch.randn(D), torch.rand(D) - 3


def materialised():
    dt = F.softplus(delta + bias[:, None])
    dA = torch.exp(torch.einsum("bdl,dn->bdln", dt, A))
    dBu = torch.einsum("bdl,bnl,bdl->bdln", dt, B, u)
    h = torch.zeros(b, D, N)
    ys = []
    for i in range(L):
        h = dA[:, :, i] * h + dBu[:, :, i]
        ys.append(torch.einsum("bdn,bn->bd", h, C[:, :, i]))
    return (torch.stack(ys, 2) + Dv[:, None] * u) * F.silu(z)


def ours():
    return selective_scan(u, delta, A, B, C, Dv, z, bias, True)


H, P = 8, 32
Ah = -torch.arange(1.0, H + 1)
x = u.reshape(b, H, P, L).permute(0, 3, 1, 2).contiguous()
dth = F.softplus(delta[:, ::P] + bias[::P, None]).transpose(1, 2).contiguous()


def ssd():
    return ssd_scan(x, dth, Ah, B.transpose(1, 2)[:, :, None], C.transpose(1, 2)[:, :, None])


def selective_heads():
    return selective_scan(u, dth.transpose(1, 2).repeat_interleave(P, 1),
                          Ah.repeat_interleave(P)[:, None].expand(D, N).contiguous(), B, C)
"""


def test_selective_scan_vs_materialised_loop(benchmark, gate_speed_and_memory):
    ns: dict = {}
    exec(SETUP, ns)
    a, b = ns["ours"](), ns["materialised"]()
    assert float((a - b).abs().max()) <= 1e-4 * float(b.abs().max())
    no_grad = SETUP + "torch.set_grad_enabled(False)\n"
    gate_speed_and_memory(benchmark, ns, no_grad, "selective_scan", TIME_FLOOR, MEMORY_FLOOR)


def test_ssd_vs_selective_scan_scalar_a_per_head():
    ns: dict = {}
    exec(SETUP, ns)
    y_ssd = ns["ssd"]().permute(0, 2, 3, 1).reshape(2, 256, 2048)
    y_sel = ns["selective_heads"]()
    assert float((y_ssd - y_sel).abs().max()) <= 1e-3 * float(y_sel.abs().max())
    t_ssd = harness.time_call(ns["ssd"], "cpu", repeats=3, min_time=0)
    t_sel = harness.time_call(ns["selective_heads"], "cpu", repeats=3, min_time=0)
    print(f"\nssd_scan: {statistics.median(t_sel) / statistics.median(t_ssd):.2f}x the speed of "
          "selective_scan with A constant per head (not gated)")
