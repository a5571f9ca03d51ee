"""diag_step's impulse law at the bottom of fp32's range: B = fp32's smallest normal, Δ = 1e-3
(B̄ subnormal), 31 steps. Step iteration and kernel each lose η per subnormal rounding, which the
law's tolerance must admit (it once failed at err/tol 1.37 with a tolerance of one η); a wrong step
still fails."""

import numpy as np
import torch

from ssmspec import registry
from ssmspec.errors import higham_bound
from ssmspec.reference.np.kernels import diag_kernel_with_bound
from ssmspec.spec import Case
from ssmspec.specs.recurrent import run_steps, steps_tolerance


def _case():
    H, N, L = 1, 2, 31
    tiny = float(np.finfo(np.float32).tiny)
    arrays = {"Lambda": np.full((H, N), -1.0 + 0j), "B": np.full((H, N), tiny + 0j),
              "C": np.ones((H, N)) + 0j, "log_dt": np.full(H, np.log(np.float32(1e-3)))}
    arrays["log_dt"] = np.float32(arrays["log_dt"]).astype(np.float64)
    return Case(arrays, "c64", {"L": L, "conj_half": True})


def test_underflowing_impulse_response_within_the_law_tolerance():
    case = _case()
    H, N = case.arrays["Lambda"].shape
    L = case.params["L"]
    u = np.zeros((1, H, L))
    u[..., 0] = 1.0
    step = registry.implementation("diag_step", "torch").fn
    y, _ = run_steps(step, case, "zoh", "cpu", u, np.zeros((1, H, N), complex))
    kernel = registry.implementation("diag_kernel", "torch").fn
    t = {k: case.tensor(k, "cpu", real=(k == "log_dt")) for k in case.arrays}
    K = kernel(t["Lambda"], t["B"], t["C"], t["log_dt"], L, method="zoh").to(torch.float64)
    a = case.arrays
    _, MK, GK = diag_kernel_with_bound(a["Lambda"], a["B"], a["C"], a["log_dt"], L, "zoh", True)
    tol = higham_bound(4.0, "c64", GK, MK) + steps_tolerance("c64", case, "zoh", u, None)[0][0]
    err = np.abs(np.asarray(y[0]).real - K.numpy())
    assert np.all(err <= tol)  # the law's own comparison
    # the η allowance stays tiny: an error of 1e-40 (a wrong step, far above η) is not admitted
    assert np.all(tol < 1e-40)
