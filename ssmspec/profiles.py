"""Hypothesis profiles, chosen by the environment variable SSMSPEC_PROFILE.

- `ci` (the default): derandomized, so every run of the default suite sees the same examples and a
  failure reproduces; examples per property sized for the 15-minute budget on 2 cores.
- `dev`: random, fewer examples, for quick local iteration; failures are saved to the local
  hypothesis database.
- `nightly`: random and heavy (many examples), for the tox env `nightly`.
- `interpret`: derandomized, 10 examples per property, for the tox env `triton` (Triton kernels
  under the interpreter on the CPU).
- `gpu`: derandomized, 10 examples per property: every primitive's properties on CUDA within the
  few minutes a borrowed GPU machine gives `tools/cuda-check` (the mpmath references run on its
  CPUs and set the pace).
- `smoke`: derandomized, 2 examples per property: `tools/cuda-check --dry-run`, which only proves
  that every step of the GPU run still starts, runs and reports.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILES = ("ci", "dev", "nightly", "interpret", "gpu", "smoke")
_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                      HealthCheck.data_too_large])

settings.register_profile("ci", max_examples=30, derandomize=True, database=None,
                          print_blob=True, **_common)
# derandomize=False explicitly: with CI set in the environment hypothesis's own default profile is
# derandomized, and registered profiles inherit from it.
settings.register_profile("dev", max_examples=15, derandomize=False, print_blob=True, **_common)
# `interpret`: the ci profile with fewer examples, for kernels run by an interpreter (tox -e
# triton: Triton kernels on the CPU, ~1e4 times slower than compiled); same bounds.
settings.register_profile("interpret", max_examples=10, derandomize=True, database=None,
                          print_blob=True, **_common)
settings.register_profile("gpu", max_examples=10, derandomize=True, database=None,
                          print_blob=True, **_common)
settings.register_profile("smoke", max_examples=2, derandomize=True, database=None,
                          print_blob=True, **_common)
settings.register_profile("nightly", max_examples=500, derandomize=False, print_blob=True,
                          **_common)


# `ssmspec check` inputs per (method, format), by profile: the default search, and the search at
# fixed sizes or in the realistic regime (each input there costs a reference at shipping size).
CHECK_EXAMPLES = {"ci": 100, "dev": 30, "nightly": 1000, "interpret": 10, "gpu": 30, "smoke": 3}
REALISTIC_EXAMPLES = {"ci": 5, "dev": 3, "nightly": 20, "interpret": 1, "gpu": 5, "smoke": 1}


def load(name: str | None = None) -> str:
    """Load the profile `name` (default: SSMSPEC_PROFILE, else `ci`) and return its name."""
    name = name or os.environ.get("SSMSPEC_PROFILE", "ci")
    if name not in PROFILES:
        raise ValueError(f"SSMSPEC_PROFILE: expected one of {PROFILES}, got {name!r}")
    settings.load_profile(name)
    return name


def active() -> str:
    """The profile a run uses: SSMSPEC_PROFILE, else `ci` (what `load()` loads)."""
    return os.environ.get("SSMSPEC_PROFILE", "ci")


def heavy() -> bool:
    """Whether sweeps should reach their longest sizes (the `nightly` profile)."""
    return active() == "nightly"
