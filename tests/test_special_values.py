"""Special values the strategies do not reach by themselves (regressions found along the way)."""

import numpy as np
import torch

from ssmspec import harness, registry
from ssmspec.impl.discretization import phi1
from ssmspec.spec import Case


def test_phi1_of_a_subnormal_argument_is_one_not_inf_nan():
    # torch 2.13's complex division by a subnormal gives inf + nan·i; expm1(z)/z hit it
    z = torch.tensor([2e-313j, 5e-324 + 0j, 0j], dtype=torch.complex128)
    assert torch.equal(phi1(z).real, torch.ones(3, dtype=torch.float64))
    assert torch.isfinite(phi1(torch.tensor([1e-40j], dtype=torch.complex64))).all()


def test_discretize_diag_zoh_with_a_subnormal_eigenvalue_is_within_bound():
    spec = registry.spec("discretize_diag")
    lam = np.array([[2e-313j, -0.5 + 1e-310j, -1.0 + 0j]])
    case = Case({"Lambda": lam, "B": np.ones_like(lam), "dt": np.array([0.1])}, "c128",
                {"dt": "per channel"})
    m = harness.evaluate(spec, registry.implementation("discretize_diag", "torch").fn, case,
                         "zoh", "cpu")
    assert m.passed, m.describe()
