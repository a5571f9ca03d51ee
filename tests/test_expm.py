"""The built-in matrix exponential against scipy, and the torch bug it avoids."""

import numpy as np
import pytest
import scipy.linalg
import torch

from ssmspec.impl.expm import expm


@pytest.mark.parametrize("scale", [1e-8, 1e-3, 0.04, 0.3, 1.0, 5.0, 40.0, 300.0])
@pytest.mark.parametrize("cplx", [False, True])
def test_matches_scipy(scale, cplx):
    rng = np.random.default_rng(int(scale * 1e3) % 1000)
    X = rng.normal(size=(4, 5, 5)) + (1j * rng.normal(size=(4, 5, 5)) if cplx else 0)
    X = X * scale / np.linalg.norm(X, 1, axis=(-2, -1))[:, None, None]
    X[..., np.arange(5), np.arange(5)] -= scale  # stable: keeps exp(X) of order one
    want = scipy.linalg.expm(X)
    got = expm(torch.from_numpy(X)).numpy()
    err = np.linalg.norm(got - want, axis=(-2, -1)) / np.linalg.norm(want, axis=(-2, -1))
    assert np.all(err < 50 * 2.0**-53 * max(1.0, scale)), err


def test_batch_entries_are_scaled_independently():
    """A large matrix in the batch must not change a small one's result."""
    small = torch.tensor([[0.0, -0.04], [0.04, 0.0]], dtype=torch.float64)
    big = 300 * torch.eye(2, dtype=torch.float64).neg()
    alone = expm(small[None])[0]
    together = expm(torch.stack([small, big]))[0]
    assert torch.equal(alone, together)


def test_singleton_rotation_that_breaks_torch_matrix_exp():
    """pytorch/pytorch#196592: torch.linalg.matrix_exp's degree-8 branch for a batch of one."""
    theta = 0.04
    a = torch.tensor([[0.0, -theta], [theta, 0.0]], dtype=torch.float64)
    exact = torch.tensor([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]],
                         dtype=torch.float64)
    assert (expm(a) - exact).abs().max() < 4 * 2.0**-53


def test_nan_stays_in_its_matrix():
    X = torch.zeros(2, 3, 3, dtype=torch.float64)
    X[0, 1, 2] = float("nan")
    E = expm(X)
    assert torch.isnan(E[0]).any()
    assert (E[1] - torch.eye(3, dtype=torch.float64)).abs().max() <= 2.0**-52
