"""The vocabulary of a spec module, in one import: `from ssmspec.speckit import *`.

A spec module (ssmspec/specs/) declares a primitive with the same few dozen names: the spec's
data types (`Spec`, `Bound`, `Terms`, `TwoTier`, `Case`, `Law`, `Mutant`, ...), the strategies
its inputs are drawn with, the error measures and formats its bound is written in, and the law
helpers. They are gathered here so that a spec module imports its vocabulary once and its own
reference, implementation and peers by name. Nothing is defined here; each name's home module is
given below. ruff's star-import checks (F403, F405) are off for ssmspec/specs/ only;
tests/test_coverage.py checks that every name a spec module uses is defined.
"""

from ssmspec import registry
from ssmspec.dtypes import COMPLEX_DTYPES, REAL_DTYPES, dtype, real_of
from ssmspec.errors import abs_error, higham_bound, norm_error, to_float
from ssmspec.harness import to_numpy
from ssmspec.laws import assert_within
from ssmspec.spec import (
    BadInput,
    Bound,
    Case,
    Feature,
    Implementation,
    Law,
    LawContext,
    Mutant,
    Spec,
    Sweep,
    Terms,
    TwoTier,
    flag,
    last_case,
    optional_argument,
)
from ssmspec.strategies import (
    ARRAY_DRAW_MAX,
    arrays,
    batch_shapes,
    boundary_lengths,
    feature,
    in_scope,
    log_uniform,
    real_normals,
    representable,
    sequence_lengths,
    size,
    stable_complex,
    stable_reals,
)
from ssmspec.sweeps import LONG, LONG_HEAVY, QUADRATIC, QUADRATIC_HEAVY, problem_rng

__all__ = [
    "registry",
    # ssmspec.spec: the data a spec is made of
    "BadInput", "Bound", "Case", "Feature", "Implementation", "Law", "LawContext", "Mutant",
    "Spec", "Sweep", "Terms", "TwoTier", "flag", "last_case", "optional_argument",
    # ssmspec.dtypes, ssmspec.errors: formats and error measures
    "COMPLEX_DTYPES", "REAL_DTYPES", "dtype", "real_of",
    "abs_error", "higham_bound", "norm_error", "to_float",
    # ssmspec.harness, ssmspec.laws: outputs as numpy, a law's comparison
    "to_numpy", "assert_within",
    # ssmspec.strategies: how inputs are drawn
    "ARRAY_DRAW_MAX", "arrays", "batch_shapes", "boundary_lengths", "feature", "in_scope",
    "log_uniform", "real_normals", "representable", "sequence_lengths", "size",
    "stable_complex", "stable_reals",
    # ssmspec.sweeps: the sizes of a sweep
    "LONG", "LONG_HEAVY", "QUADRATIC", "QUADRATIC_HEAVY", "problem_rng",
]
