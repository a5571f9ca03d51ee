"""The HiPPO laws can fail: each mutant swapped into the laws that should catch it makes them fail,
and into the ones that cannot see it (docs/hippo.md) leaves them passing: the law's own verdict
(`ssmspec.laws.check_once`), never a crash.
Every mutant is also caught by the reference comparison (properties/test_mutants.py); these
tests pin which law sees which bug."""

from __future__ import annotations

import pytest

from ssmspec import registry
from ssmspec.laws import check_once
from ssmspec.spec import Implementation, LawContext


def _ctx(primitive: str, fn, fmt: str, draws: list) -> LawContext:
    """A context whose `draw` hands out `draws` in order, whatever strategy the law asks for."""
    queue = list(draws)
    return LawContext(
        impl=Implementation(primitive, "mutant", fn),
        dtype=fmt,
        device="cpu",
        draw=lambda strategy, label=None: queue.pop(0),
        impl_of=lambda p: registry.implementation(p, "torch").fn,
    )


def _law(primitive: str, name: str):
    return next(law for law in registry.laws(primitive) if law.name == name)


def _mutant(primitive: str, name: str):
    return next(m.fn for m in registry.mutants(primitive) if m.name == name)


CAUGHT = [
    ("hippo", "sign_flipped", "spectrum", "fp64", [8]),
    ("hippo", "sign_flipped", "legs_fixed_point", "fp32", [8]),
    ("hippo", "sqrt_dropped", "legs_fixed_point", "fp64", [4]),
    ("hippo", "sqrt_dropped", "legs_projection", "fp64", [8]),
    ("nplr", "half_by_position", "unitary", "c128", ["fout", 8]),
    ("nplr", "eig_not_eigh", "unitary", "c128", ["legs", 256]),
    ("nplr", "eig_not_eigh", "re_lambda", "c128", ["legs", 256]),
]
BLIND = [
    # a similarity transform: same triangular shape and diagonal, so the same spectrum
    ("hippo", "sqrt_dropped", "spectrum", "fp64", [8]),
    # the zero pair adds nothing to VΛV*, and P enters the law exactly
    ("nplr", "half_by_position", "reconstruction", "c128", ["fout", 8]),
    # its eigenvalues are right (0 is 0): the wrong thing is the kept eigenvector
    ("nplr", "half_by_position", "half_by_sign", "c128", ["fout", 8]),
]


@pytest.mark.parametrize("prim, mutant, law, fmt, draws", CAUGHT,
                         ids=[f"{c[1]}-{c[2]}" for c in CAUGHT])
def test_law_catches_mutant(prim, mutant, law, fmt, draws):
    verdict = check_once(_law(prim, law), _ctx(prim, _mutant(prim, mutant), fmt, draws))
    assert verdict.failed, verdict
    # the built-in passes the same law on the same draws
    builtin = registry.implementation(prim, "torch").fn
    assert check_once(_law(prim, law), _ctx(prim, builtin, fmt, draws)).passed


@pytest.mark.parametrize("prim, mutant, law, fmt, draws", BLIND,
                         ids=[f"{c[1]}-{c[2]}" for c in BLIND])
def test_law_blind_to_mutant(prim, mutant, law, fmt, draws):
    verdict = check_once(_law(prim, law), _ctx(prim, _mutant(prim, mutant), fmt, draws))
    assert verdict.passed, verdict
