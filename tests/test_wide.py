"""report and selftest with --workers 2 give what --workers 1 gives (the inputs are
derandomized), apart from timings and the node that ran each entry."""

import json
import os
import subprocess
import sys

import pytest

from ssmspec import cli

PRIMITIVES = ["discretize_diag", "ema_kernel"]


def _entries(tmp_path, workers: int, *more: str) -> list[dict]:
    # a fresh process each, as a user runs it: an in-process run after other tests in the same
    # process can draw other inputs (hypothesis state left behind), which is not what is tested
    out = tmp_path / f"w{workers}{''.join(more)}"
    rc = subprocess.run([sys.executable, "-m", "ssmspec.cli", "report", "--primitive",
                         *PRIMITIVES, "--examples", "3", "--no-timing", "--no-realistic",
                         "--no-progress", "--quiet", "--out", str(out), "--workers",
                         str(workers), *more], timeout=600).returncode
    assert rc == 0
    data = json.loads((out / "report.json").read_text())
    assert data["settings"]["workers"] == workers
    assert data["settings"]["executor"] == ("ray" if "ray" in more else
                                            "serial" if workers == 1 else "local")
    assert all(e["node"] for e in data["entries"])
    return [{k: v for k, v in e.items() if k not in ("node", "time")} for e in data["entries"]]


@pytest.mark.slow
def test_report_entries_equal_serial(tmp_path):
    serial = _entries(tmp_path, 1)
    assert len(serial) > 4
    assert _entries(tmp_path, 2) == serial


@pytest.mark.slow
def test_selftest_wide_equals_serial():
    from ssmspec import selftest
    from ssmspec.executor import Plan

    one = selftest.to_json(selftest.run(["ema_kernel"], examples=20))
    two = selftest.to_json(selftest.run(["ema_kernel"], examples=20, plan=Plan(2)))
    assert one == two and one["mutants"]


def test_jobs_is_an_alias_of_workers():
    a = cli._parser().parse_args(["report", "--jobs", "3"])
    assert a.workers == 3 and cli._plan(a).workers == 3


@pytest.mark.slow
def test_check_wide_equals_serial():
    from ssmspec import check, registry, verdict

    impl = {i.name: i for i in registry.implementations("discretize_diag")}["torch"]
    from ssmspec.executor import Plan

    def run(plan):
        res = check.check("discretize_diag", impl, ["zoh", "bilinear"], ["fp32", "fp64"],
                          examples=10, laws=False, plan=plan)
        return verdict.to_json(res)

    one, two = run(None), run(Plan(2))
    assert len(one["searches"]) == 4 and one == two


@pytest.mark.skipif(os.environ.get("SSMSPEC_RAY_CLUSTER") != "1",
                    reason="needs Ray and a cluster: SSMSPEC_RAY_CLUSTER=1 (tox -e cluster starts "
                           "one; RAY_ADDRESS names it, else Ray starts a local one)")
def test_report_on_ray_equals_serial(tmp_path):
    assert _entries(tmp_path, 2, "--executor", "ray") == _entries(tmp_path, 1)
