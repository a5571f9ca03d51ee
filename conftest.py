"""Root conftest for the repository's test folders (tests/, perf/): the hypothesis profile, and
one worker per ssmspec command unless SSMSPEC_WORKERS is set (pytest -n runs the tests wide; a
test of parallelism asks for its workers explicitly).

Under pytest-xdist (`pytest -n auto`, the README's test command), two things make the run wide
in fact, each measured on a 2-core machine with a ~30 s subset of the tests:
- each worker gets its share of the cores for torch's intra-op threads: with torch's default
  (every core) in every worker, `-n 2` runs 4 busy threads on 2 cores, and measured slower than
  `-n 0` (36 s against 30 s);
- work stealing instead of xdist's default `--dist load` (unless `--dist` is given): the tests'
  durations range from milliseconds to ~10 s, and `load` hands out fixed shares, leaving one
  worker idle at the end (a larger subset: 89 s with `load`, 76 s with work stealing).
The figures and how they were measured: README "Running wide"."""

import os

import pytest

from ssmspec import executor, profiles

os.environ.setdefault("SSMSPEC_WORKERS", "1")

if os.environ.get("PYTEST_XDIST_WORKER_COUNT"):
    import torch

    torch.set_num_threads(max(1, executor.cores() // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])))

profiles.load()


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """Work stealing for `-n` when no `--dist` was given (on the command line, in addopts or
    PYTEST_ADDOPTS): set before pytest-xdist's own hook turns an unset `dist` into `load`
    (conftest hooks run before those of installed plugins of the same priority)."""
    opt = config.option
    if getattr(opt, "numprocesses", None) and opt.dist == "no" and not opt.distload:
        opt.dist = "worksteal"
