"""Mega's block reference (long double against mpmath: tests/test_certification.py): the written-out
float64 composition of the parts' references equals the block reference."""

import numpy as np

from ssmspec import harness, registry
from ssmspec.reference.np import mega_attention as att_np
from ssmspec.reference.np import mega_block as rnp
from ssmspec.reference.np import recurrent as rec_np


def test_reference_is_the_papers_equations_over_the_parts():
    """Eqs. (7)–(15) in float64 over `reference.np.recurrent.ema` and
    `reference.np.mega_attention.attention` agree with the block reference to float64 rounding."""
    spec = registry.spec("mega_block")
    case = harness.sample(spec.strategy("fp64", "softmax"), 3)[-1]
    a, prm = case.arrays, case.params
    silu = rec_np.silu
    x = a["x"]
    xe = np.swapaxes(rec_np.ema(np.swapaxes(x, 1, 2), tuple(a[k] for k in rnp.FIELDS[:4]),
                                a["omega"], prm["bidirectional"]), 1, 2)
    z = silu(xe @ a["w_z"] + a["b_z"])
    q, k = z * a["qk_gamma"][0] + a["qk_beta"][0], z * a["qk_gamma"][1] + a["qk_beta"][1]
    o = att_np.attention(q, k, silu(x @ a["w_v"] + a["b_v"]), a["bias"], "softmax",
                         prm["chunk"])
    phi = 1 / (1 + np.exp(-(xe @ a["w_u"] + a["b_u"])))
    h = silu(xe @ a["w_h"] + (silu(xe @ a["w_r"] + a["b_r"]) * o) @ a["u_h"] + a["b_h"])
    y = phi * h + (1 - phi) * x
    want = spec.reference(case, "softmax", "np")["y"]
    assert np.allclose(y, want, rtol=1e-10, atol=1e-10)
