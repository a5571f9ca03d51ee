"""tools/cuda-check, the prepared GPU run, kept from rotting: its dry run (the same steps on the
CPU at tiny sizes, importing this checkout as it runs on the GPU machine, not installed) end to
end, and a step stopped at its time budget recorded as such while the run goes on."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "cuda-check"
OUTPUTS = {"summary.md", "junit.xml", "report.json", "report.md", "perf.json",
           "artifacts.tar.gz"}


def _run(out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), str(out), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def test_dry_run_runs_every_step_and_writes_the_results(tmp_path):
    out = tmp_path / "out"
    proc = _run(out, "--dry-run")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert {p.name for p in out.iterdir()} == OUTPUTS  # the device tool brings back ≤ 8 files
    summary = (out / "summary.md").read_text()
    assert proc.stdout.endswith(summary)
    for step in ("environment", "properties", "report"):
        assert f"| {step} | passed |" in summary, summary
    for step in ("triton", "perf"):  # interpreted where triton is installed, else skipped
        assert f"| {step} | passed |" in summary or f"| {step} | skipped |" in summary, summary
    assert f"ssmspec from {ROOT / 'ssmspec'}\n" in summary
    assert "| discretize_diag | fp32 | torch | 1/1 |" in summary
    junit = (out / "junit.xml").read_text()
    assert "<testsuites" in junit and 'name="properties"' in junit
    report = json.loads((out / "report.json").read_text())
    assert report["environment"]["device"] == "cpu" and report["summary"]["failed"] == 0
    perf = json.loads((out / "perf.json").read_text())
    assert perf["gated"] is False
    if "| perf | passed |" in summary:  # the measuring code ran (toy sizes, interpreted)
        assert {g["gate"] for g in perf["gates"]} >= {"selective_forward_vs_loop",
                                                      "linear_scan_vs_copy_bandwidth"}
    with tarfile.open(out / "artifacts.tar.gz") as tar:
        names = tar.getnames()
    assert "report/discretize_diag-dt.png" in names and "properties.log" in names


def test_a_step_past_its_budget_is_recorded_and_fails_the_run(tmp_path):
    out = tmp_path / "out"
    proc = _run(out, "--dry-run", "--steps", "report", "--budget", "report=1")
    assert proc.returncode == 1, proc.stdout[-4000:]
    summary = (out / "summary.md").read_text()
    assert "| environment | passed |" in summary
    assert "| report | timed out |" in summary and "budget of 1 s" in summary


def test_bad_budget_and_non_empty_outdir_are_refused(tmp_path):
    proc = _run(tmp_path / "a", "--budget", "report=soon")
    assert proc.returncode == 2 and "--budget" in proc.stderr
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x").write_text("")
    proc = _run(tmp_path / "b", "--dry-run")
    assert proc.returncode == 2 and "outdir" in proc.stderr
