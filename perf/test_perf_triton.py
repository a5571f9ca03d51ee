"""The Triton kernels on CUDA (skipped without CUDA or without triton; under TRITON_INTERPRET
the kernels are interpreted, so the timings would be meaningless: skipped too). Ratios measured
in one run on one card, interleaved, median of repeats (CUDA events):

- selective_scan forward (fp32, batch 2, D 1024, N 16, L 2048, per-step B/C, D, z, bias,
  softplus): ≥ 20× the per-step loop (exp(ΔA) and ΔB·u materialised as (batch, D, L, N), one
  step at a time, as Mamba's selective_scan_ref), and printed against the torch built-in.
- linear_scan (fp32, 4 × 1024 × 16384, chunked): the bytes it must move (read a, b, write h:
  12 bytes per step) over its time, as a fraction of the card's bandwidth measured in the same
  run by a device-to-device copy of the same bytes; gate ≥ 0.5.
- diag_kernel (c64, H 256, N 64, L 16384) and ema_kernel (fp32, D 1024, ndim 16, L 16384):
  against their torch implementations; gate: no slower (ratio ≥ 1).
"""

from __future__ import annotations

import statistics

import pytest
import torch

from ssmspec.impl import triton as triton_impl

REASON = triton_impl.available()
pytestmark = pytest.mark.skipif(
    REASON is not None or not torch.cuda.is_available() or triton_impl.interpreted(),
    reason="the Triton perf gates need a CUDA GPU with triton, compiled (not TRITON_INTERPRET)",
)

SELECTIVE_FLOOR = 20.0
BANDWIDTH_FLOOR = 0.5
KERNEL_FLOOR = 1.0


def _time(fn, repeats: int = 5) -> float:
    """Median seconds of `fn` on the GPU (after one warm-up call, which compiles)."""
    fn()
    torch.cuda.synchronize()
    out = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        out.append(start.elapsed_time(end) / 1e3)
    return statistics.median(out)


def _interleaved(fns: dict, rounds: int = 3) -> dict:
    times = {k: [] for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            times[k].append(_time(f))
    return {k: statistics.median(v) for k, v in times.items()}


def test_selective_scan_forward_vs_per_step_loop_and_torch():
    import torch.nn.functional as F

    from ssmspec.impl.selective import selective_scan as torch_selective
    from ssmspec.impl.triton.selective import selective_scan

    g = torch.Generator(device="cuda").manual_seed(0)
    b, D, N, L = 2, 1024, 16, 2048
    r = lambda *s: torch.randn(*s, device="cuda", generator=g)  # noqa: E731
    u, delta, z = r(b, D, L), r(b, D, L) - 4, r(b, D, L)
    A = -torch.arange(1.0, N + 1, device="cuda").expand(D, N).contiguous()
    B, C = r(b, N, L), r(b, N, L)
    Dv, bias = r(D), torch.rand(D, device="cuda", generator=g) - 3

    def loop():
        dt = F.softplus(delta + bias[:, None])
        dA = torch.exp(torch.einsum("bdl,dn->bdln", dt, A))
        dBu = torch.einsum("bdl,bnl,bdl->bdln", dt, B, u)
        h = torch.zeros(b, D, N, device="cuda")
        ys = []
        for i in range(L):
            h = dA[:, :, i] * h + dBu[:, :, i]
            ys.append(torch.einsum("bdn,bn->bd", h, C[:, :, i]))
        return (torch.stack(ys, 2) + Dv[:, None] * u) * F.silu(z)

    with torch.no_grad():
        t = _interleaved({
            "loop": loop,
            "torch": lambda: torch_selective(u, delta, A, B, C, Dv, z, bias, True),
            "triton": lambda: selective_scan(u, delta, A, B, C, Dv, z, bias, True),
        }, rounds=2)
    vs_loop, vs_torch = t["loop"] / t["triton"], t["torch"] / t["triton"]
    print(f"\nselective_scan fwd: triton {t['triton'] * 1e3:.2f} ms, {vs_loop:.1f}x the loop, "
          f"{vs_torch:.1f}x the torch built-in ({torch.cuda.get_device_name()})")
    assert vs_loop >= SELECTIVE_FLOOR


def test_linear_scan_fraction_of_memory_bandwidth():
    from ssmspec.impl.triton.scan import linear_scan

    shape = (4, 1024, 16384)
    a = torch.rand(shape, device="cuda") * 0.01 + 0.99
    b = torch.randn(shape, device="cuda")
    moved = 3 * a.numel() * a.element_size()  # read a and b, write h
    src = torch.empty(moved // 2, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    with torch.no_grad():
        t = _interleaved({"scan": lambda: linear_scan(a, b), "copy": lambda: dst.copy_(src)})
    bandwidth = 2 * src.numel() / t["copy"]  # a copy reads and writes its bytes
    fraction = moved / t["scan"] / bandwidth
    print(f"\nlinear_scan: {moved / t['scan'] / 1e9:.0f} GB/s, copy {bandwidth / 1e9:.0f} GB/s, "
          f"fraction {fraction:.2f} ({torch.cuda.get_device_name()})")
    assert fraction >= BANDWIDTH_FLOOR


def test_diag_and_ema_kernels_vs_torch():
    from ssmspec.impl import kernels as torch_kernels
    from ssmspec.impl.triton import kernels

    g = torch.Generator(device="cuda").manual_seed(0)
    H, N, L = 256, 64, 16384
    lam = torch.complex(-torch.rand(H, N, device="cuda", generator=g),
                        torch.randn(H, N, device="cuda", generator=g) * 10)
    B = torch.randn(H, N, device="cuda", generator=g, dtype=torch.complex64)
    Cc = torch.randn(H, N, device="cuda", generator=g, dtype=torch.complex64)
    ldt = torch.rand(H, device="cuda", generator=g) * 4 - 7
    Dm, n = 1024, 16
    ema = [torch.randn(Dm, n, 1, device="cuda", generator=g) for _ in range(3)]
    gamma = torch.randn(Dm, n, device="cuda", generator=g)
    with torch.no_grad():
        t = _interleaved({
            "diag_torch": lambda: torch_kernels.diag_kernel(lam, B, Cc, ldt, L),
            "diag_triton": lambda: kernels.diag_kernel(lam, B, Cc, ldt, L),
            "ema_torch": lambda: torch_kernels.ema_kernel(*ema, gamma, L),
            "ema_triton": lambda: kernels.ema_kernel(*ema, gamma, L),
        })
    diag, ema_ratio = t["diag_torch"] / t["diag_triton"], t["ema_torch"] / t["ema_triton"]
    print(f"\ndiag_kernel: triton {diag:.2f}x torch; ema_kernel: triton {ema_ratio:.2f}x torch "
          f"({torch.cuda.get_device_name()})")
    assert diag >= KERNEL_FLOOR and ema_ratio >= KERNEL_FLOOR
