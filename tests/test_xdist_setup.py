"""The root conftest's set-up for pytest-xdist: each worker's torch intra-op threads are its share
of the cores (a worker with every core, beside another, oversubscribes them: measured slower
than the serial run), and `-n` schedules by work stealing unless `--dist` was given."""

import os
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from ssmspec import executor


def test_torch_threads_are_the_workers_share_of_the_cores():
    count = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if count is None:
        pytest.skip("runs under pytest-xdist (the README's `pytest -n auto`)")
    cores = executor.cores()
    assert torch.get_num_threads() == max(1, cores // int(count)), (
        f"{count} xdist workers on {cores} cores: torch uses {torch.get_num_threads()} threads")


def _root_conftest(config):
    root = Path(__file__).resolve().parents[1] / "conftest.py"
    return next(p for p in config.pluginmanager.get_plugins()
                if Path(getattr(p, "__file__", "") or "").resolve() == root)


@pytest.mark.parametrize("numprocesses, dist, distload, want", [
    (2, "no", False, "worksteal"),      # `-n 2`: work stealing
    ("auto", "no", False, "worksteal"),  # `-n auto`, the README's command
    (2, "load", False, "load"),          # `--dist load` given (anywhere): kept
    (2, "loadfile", False, "loadfile"),
    (2, "no", True, "no"),               # `-d` (xdist's --distload): xdist makes it `load`
    (0, "no", False, "no"),              # `-n 0`: serial
    (None, "no", False, "no"),           # no `-n`
])
def test_dist_defaults_to_work_stealing_under_n(request, numprocesses, dist, distload, want):
    option = SimpleNamespace(numprocesses=numprocesses, dist=dist, distload=distload)
    _root_conftest(request.config).pytest_cmdline_main(SimpleNamespace(option=option))
    assert option.dist == want
