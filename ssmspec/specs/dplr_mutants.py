"""Mutants of dplr_kernel that show only at the sizes S4 ships with (H = 256, N = 64 LegS,
L = 4096: `ssmspec.specs.dplr.bench_kernel`).

- rounded_omega_powers: the roots of unity formed as powers of one rounded root, as S4's own
  kernel does (its `_omega`: ω₁ = exp(−2πi/L) rounded to complex64, then ω₁ ** arange(…)). The
  integer powers of the rounded ω₁ drift from the true roots by a phase error that grows like
  k·u (k times the angle error of ω₁, plus the rounding of the power itself), so K̂ is evaluated
  at points up to ~L·u away from the true roots: K picks up an error ~L·u·|ω·dK̂/dω|, against
  the u·|ω·dK̂/dω| a correctly rounded root costs (which the bound admits). Everything else
  runs exactly (the §5 route in complex128, `ssmspec.specs.dplr_laws.generic_kernel`), so the
  witness isolates the roots.
  Complex64 only: in complex128 the drift is L·2⁻⁵³, below the bound.

  Measured on the witness: err/bound 3.3–47 per channel in c64 (the built-in 1.3e-3 at most),
  max|K − K_ref|/max|K_ref| ≈ 2.9e-3; the registered witness keeps every 16th channel (err/bound
  47 there too). The small-size search finds it as well (derandomized: a LegS system at L = 127,
  err/bound 1.2, within a few examples): the drift is ~L·u, so the margin grows with L.
"""

from __future__ import annotations

import math

import torch

from ssmspec import registry
from ssmspec.spec import Mutant
from ssmspec.specs.dplr import bench_kernel
from ssmspec.specs.dplr_laws import generic_kernel

WITNESS_STRIDE = 16  # 16 of the benchmark's 256 channels: its N = 64 and L = 4096, Δ across
CHANNELS_PER_CALL = 8  # the materialised route holds (channels, n, L) complex128 arrays


def rounded_omega_powers(Lambda, P, Q, B, C, log_dt, L, conj_half=True):
    """dplr_kernel with ω_k = ω₁^k, ω₁ = exp(−2πi/L) rounded to complex64 and powered there."""
    w1 = torch.tensor(complex(math.cos(2 * math.pi / L), -math.sin(2 * math.pi / L)),
                      dtype=torch.complex64)
    omega = w1 ** torch.arange(L)
    rows = [generic_kernel(Lambda[s:s + CHANNELS_PER_CALL], P[:, s:s + CHANNELS_PER_CALL],
                     Q[:, s:s + CHANNELS_PER_CALL], B[s:s + CHANNELS_PER_CALL],
                     C[s:s + CHANNELS_PER_CALL], log_dt[s:s + CHANNELS_PER_CALL], L, conj_half,
                     omega=omega)
            for s in range(0, Lambda.shape[0], CHANNELS_PER_CALL)]
    return torch.cat(rows)


registry.register_mutant(Mutant(
    "dplr_kernel", "rounded_omega_powers", rounded_omega_powers, "bilinear", ("c64",),
    "ω_k = ω₁ ** k from ω₁ rounded to complex64 (S4's roots of unity): k·u phase drift",
    lambda fmt: bench_kernel(fmt, WITNESS_STRIDE)))
