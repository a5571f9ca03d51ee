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
from pathlib import Path

from hypothesis import HealthCheck, settings

PROFILES = ("ci", "dev", "nightly", "interpret", "gpu", "smoke")

# The one table of example counts: README, `ssmspec check --help` and the profiles read it.
# property: examples per property test under pytest; check: inputs per (method, dtype) of
# `ssmspec check` (a single kernel: it can afford more); realistic: the same at fixed sizes or in
# the realistic regime (each input there costs a reference at a shipping size).
EXAMPLES = {
    "ci": {"property": 30, "check": 100, "realistic": 5},
    "dev": {"property": 15, "check": 30, "realistic": 3},
    "nightly": {"property": 500, "check": 1000, "realistic": 20},
    "interpret": {"property": 10, "check": 10, "realistic": 1},
    "gpu": {"property": 10, "check": 30, "realistic": 5},
    "smoke": {"property": 2, "check": 3, "realistic": 1},
}
_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                      HealthCheck.data_too_large])

settings.register_profile("ci", max_examples=EXAMPLES["ci"]["property"], derandomize=True,
                          database=None, print_blob=True, **_common)
# derandomize=False explicitly: with CI set in the environment hypothesis's own default profile is
# derandomized, and registered profiles inherit from it.
settings.register_profile("dev", max_examples=EXAMPLES["dev"]["property"], derandomize=False,
                          print_blob=True, **_common)
# `interpret`: the ci profile with fewer examples, for kernels run by an interpreter (tox -e
# triton: Triton kernels on the CPU, ~1e4 times slower than compiled); same bounds.
settings.register_profile("interpret", max_examples=EXAMPLES["interpret"]["property"],
                          derandomize=True, database=None, print_blob=True, **_common)
settings.register_profile("gpu", max_examples=EXAMPLES["gpu"]["property"], derandomize=True,
                          database=None, print_blob=True, **_common)
settings.register_profile("smoke", max_examples=EXAMPLES["smoke"]["property"], derandomize=True,
                          database=None, print_blob=True, **_common)
settings.register_profile("nightly", max_examples=EXAMPLES["nightly"]["property"],
                          derandomize=False, print_blob=True, **_common)


def check_examples(profile: str, realistic: bool = False) -> int:
    """Inputs per (method, dtype) of `ssmspec check` under `profile` (at fixed sizes or in the
    realistic regime: `realistic`)."""
    return EXAMPLES[profile]["realistic" if realistic else "check"]


def describe_counts(kind: str = "check") -> str:
    """'ci 100, dev 30, nightly 1000' (the table's `kind` column), for --help and the README."""
    return ", ".join(f"{p} {EXAMPLES[p][kind]}" for p in ("ci", "dev", "nightly"))


def use_cache_storage() -> Path:
    """Point hypothesis's storage (its example database, caches) at ~/.cache/ssmspec/hypothesis
    (or $XDG_CACHE_HOME/ssmspec/hypothesis) instead of `.hypothesis/` in the working directory."""
    from hypothesis import configuration

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = base / "ssmspec" / "hypothesis"
    configuration.set_hypothesis_home_dir(str(path))
    return path


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


def derandomized(profile: str) -> bool:
    """Whether `profile` draws the same examples on every run (ci, interpret, gpu, smoke)."""
    if profile not in PROFILES:
        raise ValueError(f"profile: expected one of {PROFILES}, got {profile!r}")
    return bool(settings.get_profile(profile).derandomize)


def heavy() -> bool:
    """Whether sweeps should reach their longest sizes (the `nightly` profile)."""
    return active() == "nightly"
