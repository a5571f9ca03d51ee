"""The `ssmspec` command: list, report (files, schema, exit status), help, errors."""

import json
import subprocess
import sys

import jsonschema
import pytest

from ssmspec import cli, registry, report
from ssmspec.spec import Implementation


def test_list_names_every_primitive_method_and_implementation(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for s in registry.specs():
        assert s.name in out
        for m in s.methods:
            assert m in out
    assert "torch (builtin; available" in out


def test_list_verbose_shows_each_bounds_reasoning(capsys):
    assert cli.main(["list", "--verbose", "--primitive", "causal_conv"]) == 0
    out = capsys.readouterr().out
    spec = registry.spec("causal_conv")
    assert spec.bound.reasoning and spec.bound.reasoning in out
    assert all(m.why in out for m in registry.mutants("causal_conv"))


def _report(tmp_path, *extra):
    return cli.main(["report", "--primitive", "discretize_diag", "--method", "zoh",
                     "--dtype", "fp32", "c64", "--examples", "3", "--repeats", "2",
                     "--no-progress", "--out", str(tmp_path), *extra])


def test_report_writes_json_valid_against_the_schema_and_markdown(tmp_path, capsys):
    assert _report(tmp_path) == 0
    data = json.loads((tmp_path / "report.json").read_text())
    jsonschema.validate(data, json.loads(report.SCHEMA_FILE.read_text()))
    summary = report.load(tmp_path / "report.json")["summary"]
    assert {k: summary[k] for k in ("entries", "passed", "failed")} == {
        "entries": 2, "passed": 2, "failed": 0}
    # the sharpness section: discretize_diag's zoh at realistic size, within its bound
    assert summary["failed_realistic"] == 0
    (sharp,) = data["realistic"]
    assert (sharp["primitive"], sharp["method"], sharp["dtype"]) == ("discretize_diag", "zoh",
                                                                    "c64")
    assert [i["input"] for i in sharp["inputs"]] == ["benchmark", "realistic"]
    rows = {(e["dtype"], e["method"]) for e in data["entries"]}
    assert rows == {("fp32", "zoh"), ("c64", "zoh")}
    for e in data["entries"]:
        assert 0 <= e["max_err_over_bound"] <= 1 and len(e["time"]["repeats_s"]) == 2
    md = (tmp_path / "report.md").read_text()
    assert "## discretize_diag" in md and "| zoh | fp32 | torch |" in md
    assert "## Sharpness at realistic sizes" in md and "| discretize_diag | zoh | c64 |" in md
    assert "2 of 2 entries within their bounds" in capsys.readouterr().out


def test_report_exits_nonzero_when_an_entry_exceeds_its_bound(tmp_path, monkeypatch, capsys):
    from ssmspec.specs.discretization import naive_phi1

    bad = Implementation("discretize_diag", "naive", naive_phi1, methods=("zoh",),
                         source="plugin")
    monkeypatch.setitem(registry._IMPLS["discretize_diag"], "naive", bad)
    assert _report(tmp_path, "--impl", "naive", "--examples", "30", "--no-timing") == 1
    data = report.load(tmp_path / "report.json")
    assert data["summary"]["failed"] >= 1
    worst = [e for e in data["entries"] if not e["passed"]][0]["worst"]
    assert worst["output"] == "Bbar" and "Lambda" in worst["input"]
    assert "✗" in (tmp_path / "report.md").read_text()
    jsonschema.validate(data, json.loads(report.SCHEMA_FILE.read_text()))


def test_unknown_names_are_usage_errors(tmp_path):
    with pytest.raises(SystemExit, match="--primitive: unknown"):
        cli.main(["report", "--primitive", "nope", "--out", str(tmp_path)])
    with pytest.raises(SystemExit):
        cli.main(["report", "--dtype", "fp8"])


def test_cuda_without_a_gpu_is_a_clear_error(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the error path does not apply")
    with pytest.raises(SystemExit, match="no CUDA device"):
        cli.main(["report", "--device", "cuda", "--out", str(tmp_path)])


def test_help_tells_the_commands():
    out = subprocess.run([sys.executable, "-m", "ssmspec.cli", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "list" in out and "report" in out and "err/bound" in out


def test_console_script_is_installed():
    from pathlib import Path

    script = Path(sys.executable).with_name("ssmspec")  # beside the interpreter, not on PATH
    out = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("ssmspec ")


def test_list_names_each_primitives_optional_features(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    block = out[out.index("selective_scan  ["):]
    block = block[:block.index("\n\n")]
    assert "features:  initial_state, D, z, delta_bias" in block
    assert "layout=grouped" in block


def test_example_counts_are_one_table_in_help_readme_and_profiles():
    from pathlib import Path

    from hypothesis import settings

    from ssmspec import profiles

    help_text = " ".join(subprocess.run([sys.executable, "-m", "ssmspec.cli", "check", "--help"],
                                        capture_output=True, text=True, check=True)
                         .stdout.split())
    readme = " ".join((Path(__file__).resolve().parents[1] / "README.md").read_text().split())
    for kind in ("check", "property"):
        counts = profiles.describe_counts(kind)
        assert counts in readme, f"README lacks {counts!r}"
    assert profiles.describe_counts("check") in help_text
    for name in profiles.PROFILES:
        assert (settings.get_profile(name).max_examples
                == profiles.EXAMPLES[name]["property"])
