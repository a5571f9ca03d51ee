"""The float64 tier's working precision: long double for fp64/c128, float64 for the coarser
formats, and the two agree to far below any fp32 bound."""

import dataclasses

import numpy as np

from ssmspec import harness, registry
from ssmspec.reference.np import convolution as rconv
from ssmspec.reference.np import kernels as rk
from ssmspec.reference.np import precision


def test_evaluate_picks_the_working_precision_from_the_format():
    base = registry.spec("linear_scan")
    seen = []
    ref = base.references["np"]
    spec = dataclasses.replace(base, reference_tier=lambda case: "np", references={
        **base.references, "np": lambda c, m: seen.append(precision.is_extended()) or ref(c, m)})
    impl = registry.implementation("linear_scan", "torch")
    for fmt in ("fp64", "fp32", "c128", "bf16"):
        harness.evaluate(spec, impl.fn, spec.bench_for(fmt, "sequential"), "sequential", "cpu")
    assert seen == [True, False, True, False]
    assert precision.is_extended()  # the default is restored


def test_float64_and_long_double_kernels_agree_far_below_fp32_bounds():
    rng = np.random.default_rng(3)
    H, N, L = 4, 16, 5000
    lam = -rng.uniform(0.01, 1, (H, N)) + 1j * np.pi * np.arange(N)
    B, C = np.ones((H, N)), rng.normal(size=(H, N)) + 1j * rng.normal(size=(H, N))
    log_dt = np.log(rng.uniform(1e-3, 1e-1, H))
    K_ld, M, G = rk.diag_kernel_with_bound(lam, B, C, log_dt, L, "zoh")
    with precision.extended(False):
        K_64 = rk.diag_kernel(lam, B, C, log_dt, L, "zoh")
    err = np.abs(K_64 - K_ld) / (G * M)
    assert err.max() < 4 * 2.0**-53  # within the fp64 bound's c·u itself: 2²⁹× below fp32's


def test_fft_path_of_the_float64_convolution_reference():
    rng = np.random.default_rng(4)
    u, K = rng.normal(size=(1, 2, 3000)), rng.normal(size=(2, 3000)) * 0.999 ** np.arange(3000)
    exact = rconv.causal_conv(u, K)  # long double direct sums
    with precision.extended(False):
        fast = rconv.causal_conv(u, K)  # L·L_K above FFT_ABOVE: by FFT in float64
    M = rconv.magnitude(u, K)
    assert 3000 * 3000 > rconv.FFT_ABOVE
    assert np.max(np.abs(fast - exact) / M) < 2.0**-24 * 1e-4


def test_dtft_sup_bounds_the_spectrum_on_any_grid():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3, 77))
    sup = rconv.dtft_sup(x)
    fine = np.abs(np.fft.rfft(x, 77 * 64)).max(-1)
    assert np.all(fine <= sup) and np.all(sup <= np.abs(x).sum(-1))
