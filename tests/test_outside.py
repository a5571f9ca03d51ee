"""Checking outside kernels (`ssmspec check`, the pytest plugin, entry points, xfail data),
comparing two runs (`ssmspec compare`), the self-test and the sweeps/plots."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from ssmspec import check, cli, compare, plugins, registry, report, selftest, sweeps
from ssmspec.spec import Implementation

BAD_SCAN = textwrap.dedent('''
    import torch

    def padded_with_zero(a, b, h0=None, reverse=False, method="associative"):
        """A tree-free scan that, like a tree padded with (0, 0), forgets h0."""
        h = torch.empty_like(b)
        acc = torch.zeros_like(b[..., 0])
        idx = range(b.shape[-1] - 1, -1, -1) if reverse else range(b.shape[-1])
        for t in idx:
            acc = a[..., t] * acc + b[..., t]
            h[..., t] = acc
        return h

    def good(a, b, h0=None, reverse=False, method="associative"):
        h = torch.empty_like(b)
        acc = torch.zeros_like(b[..., 0]) if h0 is None else h0
        idx = range(b.shape[-1] - 1, -1, -1) if reverse else range(b.shape[-1])
        for t in idx:
            acc = a[..., t] * acc + b[..., t]
            h[..., t] = acc
        return h

    def swap_ab(fn):
        """An adapter: the outside function takes (b, a)."""
        return lambda a, b, *args, **kw: fn(b, a, *args, **kw)

    def takes_b_first(b, a, h0=None, reverse=False, method="associative"):
        return good(a, b, h0, reverse, method)
''')


KERNELS = textwrap.dedent('''
    import torch

    from ssmspec.impl import selective


    def no_initial_state(*args, initial_state=None, **kwargs):
        """Mamba's selective scan as its reference has it: no initial state."""
        if initial_state is not None:
            raise NotImplementedError("initial_state is not supported")
        return selective.selective_scan(*args, **kwargs)


    def naive_phi1(Lambda, B, C, log_dt, L, method="zoh", conj_half=True):
        """An S4D zoh kernel with B̄ = (exp(ΔΛ) − 1)/Λ·B: 0/0 at Λ = 0, cancellation near it."""
        dt = torch.exp(log_dt).to(Lambda.dtype)[:, None]
        z = dt * Lambda
        bbar = (torch.exp(z) - 1) / z * dt * B
        ls = torch.arange(L, dtype=log_dt.dtype)
        K = ((C * bbar)[..., None] * torch.exp(z[..., None] * ls)).sum(-2)
        K = K.real if K.is_complex() else K
        return 2 * K if conj_half else K


    def s4_kernel(Lambda, P, Q, B, C, log_dt, L, conj_half=True):
        """S4's kernel as its code has it: one of each conjugate pair, Q tied to P."""
        from ssmspec.impl import dplr

        if not conj_half or not torch.equal(P, Q):
            raise NotImplementedError("conj_half=False, or Q != P")
        return dplr.dplr_kernel(Lambda, P, P, B, C, log_dt, L, conj_half=True)


    def one_lag_short(Lambda, B, C, log_dt, L, method="zoh", conj_half=True):
        from ssmspec.impl import kernels

        return kernels.diag_kernel(Lambda, B, C, log_dt, L, method, conj_half)[:, :-1]


    def two_bugs(Lambda, B, C, log_dt, L, method="zoh", conj_half=True):
        from ssmspec.impl import kernels

        if L == 1:
            raise ValueError("L = 1 unsupported")
        if Lambda.shape[0] > 1:
            raise RuntimeError("only one channel")
        return kernels.diag_kernel(Lambda, B, C, log_dt, L, method, conj_half)
''')


@pytest.fixture
def outside_module(tmp_path, monkeypatch):
    (tmp_path / "myscans.py").write_text(BAD_SCAN)
    (tmp_path / "mykernels.py").write_text(KERNELS)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_check_fails_a_wrong_outside_scan_with_a_readable_worst_case(outside_module, capsys):
    rc = cli.main(["check", "linear_scan", "myscans:padded_with_zero", "--method", "sequential",
                   "--dtype", "fp64", "--examples", "30", "--no-laws", "--no-bad-input",
                   "--save-worst", str(outside_module / "worst")])
    out = capsys.readouterr().out
    assert rc == 1
    assert "sequential, fp64: over bound" in out and "h0" in out
    assert "reproduce: `ssmspec check linear_scan myscans:padded_with_zero" in out
    saved = json.loads((outside_module / "worst" / "linear_scan-sequential-fp64-over-bound-0.json")
                       .read_text())
    assert saved["err_over_bound"] > 1


def test_check_passes_a_correct_outside_scan_through_an_adapter(outside_module, capsys):
    rc = cli.main(["check", "linear_scan", "myscans:takes_b_first", "--adapter",
                   "myscans:swap_ab", "--method", "sequential", "--dtype", "fp32", "c64",
                   "--examples", "15", "--no-bad-input", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 0 and data["passed"], data
    assert {s["dtype"] for s in data["searches"]} == {"fp32", "c64"}
    assert all(c["error"] is None for c in data["checks"])


def test_xfail_data_turns_a_known_failure_into_an_expected_one(outside_module):
    f = outside_module / "xfail.toml"
    f.write_text('[[xfail]]\nprimitive = "linear_scan"\nmethod = "sequential"\n'
                 'dtype = "fp64"\nreason = "forgets h0"\n')
    impl = plugins.outside("linear_scan", "myscans:padded_with_zero", xfail=f,
                           methods=["sequential"])
    assert impl.expected_failure("sequential", "fp64") == "forgets h0"
    assert impl.expected_failure("sequential", "fp32") is None
    res = check.check("linear_scan", impl, dtypes=["fp64"], examples=20, laws=False,
                      bad_inputs=False)
    assert not res.searches[0].passed and res.searches[0].ok and res.passed
    good = plugins.outside("linear_scan", "myscans:good", xfail=f, methods=["sequential"])
    res = check.check("linear_scan", good, dtypes=["fp64"], examples=5, laws=False,
                      bad_inputs=False)
    assert not res.passed, "an unexpected pass of an xfail is reported (strict)"


def test_outside_names_and_xfail_files_are_validated(tmp_path):
    with pytest.raises(ValueError, match="pkg.module:function"):
        plugins.load_callable("no_colon")
    with pytest.raises(ValueError, match="no attribute"):
        plugins.load_callable("json:nope")
    bad = tmp_path / "x.toml"
    bad.write_text('[[xfail]]\nmethod = "zoh"\n')
    with pytest.raises(ValueError, match="lacks"):
        plugins.load_xfails(bad)
    with pytest.raises(ValueError, match="PRIMITIVE="):
        plugins.parse_assignment("linear_scan")


def test_entry_points_register_and_broken_ones_warn(monkeypatch):
    class EP:
        def __init__(self, name, fn):
            self.name, self.value, self._fn = name, f"mod:{name}", fn

        def load(self):
            return self._fn

    fn = registry.implementation("linear_scan", "torch").fn
    eps = [EP("good", lambda: [Implementation("linear_scan", "ep-scan", fn)]),
           EP("broken", lambda: 1 / 0)]
    import importlib.metadata as md

    monkeypatch.setattr(md, "entry_points", lambda group: eps)
    with pytest.warns(UserWarning, match="broken"):
        got = plugins.entry_point_implementations()
    assert [i.name for i in got] == ["ep-scan"]


def test_pytest_plugin_runs_the_properties_on_an_outside_function(outside_module):
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "--pyargs",
           "ssmspec.properties", "--ssmspec-impl", "linear_scan=myscans:padded_with_zero",
           "--ssmspec-only", "-k", "within_bound and sequential-fp64"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=outside_module)
    assert r.returncode == 1 and "1 failed" in r.stdout, r.stdout[-2000:] + r.stderr[-2000:]
    assert "myscans.padded_with_zero" in r.stdout


def test_pytest_plugin_keeps_an_outside_function_inside_its_declared_scope(outside_module):
    base = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "--pyargs",
            "ssmspec.properties", "--ssmspec-impl", "selective_scan=mykernels:no_initial_state",
            "--ssmspec-only", "-k", "within_bound and zoh_approx-fp64"]
    env = {**os.environ, "SSMSPEC_PROFILE": "interpret"}  # 10 examples: scope, not power
    r = subprocess.run([*base, "--ssmspec-without", "initial_state"], capture_output=True,
                       text=True, timeout=600, cwd=outside_module, env=env)
    assert r.returncode == 0 and "1 passed" in r.stdout, r.stdout[-2000:] + r.stderr[-2000:]
    # (undeclared, the same kernel raises on the inputs with an initial state: see
    # test_a_kernel_without_initial_state_passes_within_its_declared_scope)


def _entry(ratio, times, passed=True, key=("p", "torch", "m", "fp32", "cpu")):
    return {"primitive": key[0], "implementation": key[1], "method": key[2], "dtype": key[3],
            "device": key[4], "max_err_over_bound": ratio, "passed": passed,
            "time": {"repeats_s": times, "median_s": sorted(times)[len(times) // 2],
                     "min_s": min(times), "shape": ""}}


def _write(path, entries):
    path.write_text(json.dumps({"schema": report.SCHEMA, "entries": entries}))
    return path


def test_compare_flags_real_regressions_and_not_noise(tmp_path):
    noisy_a = [1.0, 1.3, 0.9, 1.6, 1.1]
    noisy_b = [1.2, 0.95, 1.7, 1.0, 1.4]  # median 1.2 vs 1.1: overlapping repeats
    base = _write(tmp_path / "a.json", [_entry(0.1, noisy_a)])
    same = _write(tmp_path / "b.json", [_entry(0.12, noisy_b)])
    rows = compare.compare(base, same)
    assert not rows[0].precision_regression and not rows[0].slowdown
    slow = _write(tmp_path / "c.json", [_entry(0.1, [t * 2 for t in [1.0, 1.05, 1.1, 1.02]])])
    assert compare.compare(base, slow)[0].slowdown
    worse = _write(tmp_path / "d.json", [_entry(3.0, noisy_b, passed=False)])
    r = compare.compare(base, worse)[0]
    assert r.precision_regression and "now fails" in r.note
    assert cli.main(["compare", str(base), str(same), "--quiet"]) == 0
    assert cli.main(["compare", str(base), str(worse), "--quiet"]) == 1


def test_compare_flags_a_mutant_swapped_in_between_two_real_runs(tmp_path, monkeypatch):
    args = ["report", "--primitive", "discretize_diag", "--method", "zoh", "--dtype", "fp32",
            "--examples", "12", "--repeats", "5", "--no-progress", "--quiet"]
    assert cli.main([*args, "--out", str(tmp_path / "base")]) == 0
    assert cli.main([*args, "--out", str(tmp_path / "again")]) == 0
    # Two runs of the same code agree on precision. Their timings are left out of this test: on a
    # machine shared with other test workers two real runs can differ by more than the slowdown
    # threshold, and the noise model of `compare` is tested on recorded timings above.
    same = compare.compare(tmp_path / "base" / "report.json", tmp_path / "again" / "report.json")
    assert not any(r.precision_regression for r in same), same
    mutant = next(m for m in registry.mutants("discretize_diag") if m.name == "naive_phi1")
    original = registry.implementation("discretize_diag", "torch")
    registry.register_implementation(Implementation("discretize_diag", "torch", mutant.fn))
    try:
        cli.main([*args, "--out", str(tmp_path / "head")])
    finally:
        registry.register_implementation(original)
    rows = compare.compare(tmp_path / "base" / "report.json", tmp_path / "head" / "report.json")
    assert rows[0].precision_regression, rows


def test_selftest_catches_a_mutant_and_scores_it():
    m = next(m for m in registry.mutants("discretize_diag") if m.name == "naive_phi1")
    r = selftest.run_mutant(m, examples=50, law_examples=3)
    assert r.caught and r.caught_by[0].startswith("witness")
    s = selftest.scores([r])
    assert s == {"discretize_diag": {"caught": 1, "total": 1, "score": 1.0}}
    assert "100%" in selftest.to_markdown([r])


def test_sweep_rows_and_plot(tmp_path):
    rows = sweeps.sweep("diag_kernel", dtypes=("c64",), methods=("zoh",), points=(64, 512),
                        repeats=1)
    assert [r["L"] for r in rows] == [64, 512]
    assert all(r["max_err_over_bound"] <= 1 and r["time_s"] > 0 for r in rows)
    sweeps.plot(rows, tmp_path / "k.png")
    assert (tmp_path / "k.png").stat().st_size > 1000
    dt_rows = sweeps.sweep("discretize_diag", dtypes=("fp16",), methods=("zoh",),
                           points=(1e-9, 1e-3))
    assert [r["Δ"] for r in dt_rows] == [1e-3], "Δ = 1e-9 rounds to 0 in fp16: skipped"


def _check_json(capsys, *argv):
    rc = cli.main(["check", *argv, "--json"])
    return rc, json.loads(capsys.readouterr().out)


def test_a_kernel_without_initial_state_passes_within_its_declared_scope(outside_module,
                                                                          capsys):
    args = ["selective_scan", "mykernels:no_initial_state", "--method", "zoh_approx",
            "--dtype", "fp64", "--examples", "12", "--no-shrink"]
    rc, data = _check_json(capsys, *args, "--without", "initial_state")
    assert rc == 0 and data["passed"], data
    assert "all but initial_state" in data["scope"]
    s = data["searches"][0]
    assert s["counts"]["passed"] == 12 and s["out_of_scope"] == 0
    assert data["checks"] and all(c["error"] is None for c in data["checks"])
    # undeclared, the same kernel fails: it raises on the inputs with an initial state
    rc, data = _check_json(capsys, *args, "--no-laws")
    s = data["searches"][0]
    assert rc == 1 and s["counts"]["raised"] > 0 and s["counts"]["passed"] > 0
    assert [f["class"] for f in s["failures"]] == [
        "raised: NotImplementedError: initial_state is not supported"]


def test_an_s4_style_dplr_kernel_passes_its_laws_within_its_declared_scope(outside_module,
                                                                           capsys):
    rc, data = _check_json(capsys, "dplr_kernel", "mykernels:s4_kernel", "--without",
                           "conj_half=False", "--without", "Q!=P", "--dtype", "c128",
                           "--examples", "6", "--no-shrink")
    assert rc == 0 and data["searches"][0]["counts"]["passed"] == 6, data
    laws = {c["name"]: c for c in data["checks"]}
    assert laws["conj_half_full (c128)"]["out_of_scope"]
    ran = [c for c in laws.values() if not c["out_of_scope"]]
    assert len(ran) == 4 and all(c["error"] is None for c in ran), laws


def test_a_naive_phi1_kernel_fails_with_counts_and_a_diagnosis(outside_module, capsys):
    rc, data = _check_json(capsys, "diag_kernel", "mykernels:naive_phi1", "--method", "zoh",
                           "--dtype", "fp64", "--examples", "30", "--no-laws")
    s = data["searches"][0]
    n = s["counts"]
    assert rc == 1 and n["passed"] > 0 and n["over bound"] > 0 and n["non-finite"] > 0
    assert sum(n.values()) == s["examples"] == 30
    assert 1 < s["worst_finite_err_over_bound"] < float("inf")
    by_kind = {f["kind"]: f for f in s["failures"]}
    nonfinite = by_kind["non-finite"]
    assert nonfinite["shrunk"] and nonfinite["input"]["Lambda"]["values"] == [0.0]
    assert "phi1_zero_division" in nonfinite["diagnosis"] and "fix:" in nonfinite["diagnosis"]
    assert "naive_phi1" in by_kind["over bound"]["diagnosis"]
    assert not any(c["kind"] == "bad input" for c in data["checks"]), "opt-in for outside"


def test_a_wrong_shaped_output_is_a_fail_row_not_a_traceback(outside_module, capsys):
    rc = cli.main(["check", "diag_kernel", "mykernels:one_lag_short", "--method", "zoh",
                   "--dtype", "fp32", "--examples", "8", "--no-shrink"])
    out = capsys.readouterr().out
    assert rc == 1
    assert "| zoh | fp32 | 8 | 0 | 0 | 0 | 0 | 8 |" in out
    assert "wrong output: K: shape" in out and "Traceback" not in out


def test_every_distinct_exception_is_shown(outside_module, capsys):
    rc, data = _check_json(capsys, "diag_kernel", "mykernels:two_bugs", "--method", "zoh",
                           "--dtype", "fp64", "--examples", "30", "--no-laws", "--no-shrink")
    classes = {f["class"] for f in data["searches"][0]["failures"]}
    assert rc == 1 and classes == {"raised: ValueError: L = # unsupported",
                                   "raised: RuntimeError: only one channel"}, classes
    import builtins
    import importlib

    from ssmspec.harness import describe_exception

    group_of = (getattr(builtins, "ExceptionGroup", None)  # Python ≥ 3.11, else the backport
                or importlib.import_module("exceptiongroup").ExceptionGroup)
    group = group_of("two", [ValueError("a"), group_of("in", [KeyError("b")])])
    assert describe_exception(group) == "ValueError: a; KeyError: 'b'"


def test_a_saved_input_replays_to_the_same_err_over_bound(outside_module, capsys):
    worst = outside_module / "worst"
    rc, data = _check_json(capsys, "diag_kernel", "mykernels:naive_phi1", "--method", "zoh",
                           "--dtype", "fp32", "--examples", "20", "--no-laws",
                           "--save-worst", str(worst))
    saved = {f["kind"]: f["err_over_bound"] for f in data["searches"][0]["failures"]}
    files = sorted(worst.glob("*.npz"))
    assert rc == 1 and len(files) == len(saved) >= 1
    for f in files:
        kind = json.loads(f.with_suffix(".json").read_text())["class"]
        assert cli.main(["replay", str(f), "mykernels:naive_phi1", "--json"]) == 1
        again = json.loads(capsys.readouterr().out)["searches"][0]
        assert again["examples"] == 1 and again["failures"][0]["class"] == kind
        assert again["failures"][0]["err_over_bound"] == saved[kind]
        assert cli.main(["check", "diag_kernel", "mykernels:naive_phi1", "--case", str(f)]) == 1
        assert "| zoh | fp32 | 1 |" in capsys.readouterr().out
    assert cli.main(["replay", str(files[0]), "ssmspec.impl.kernels:diag_kernel"]) == 0


def test_check_leaves_no_hypothesis_folder_in_the_working_directory(outside_module, capsys):
    assert not (outside_module / ".hypothesis").exists()
    cli.main(["check", "linear_scan", "myscans:good", "--method", "sequential", "--dtype",
              "fp64", "--examples", "5", "--quiet"])
    assert not (outside_module / ".hypothesis").exists()


def test_bad_inputs_are_opt_in_for_outside_kernels(outside_module, capsys):
    args = ["linear_scan", "myscans:good", "--method", "sequential", "--dtype", "fp64",
            "--examples", "3", "--no-laws"]
    _, data = _check_json(capsys, *args)
    assert not data["checks"]
    _, data = _check_json(capsys, *args, "--bad-input")
    assert {c["kind"] for c in data["checks"]} == {"bad input"}
