"""What ssmspec finds about the public SSM kernel libraries (`ssmspec.peers`, `tox -e peers`),
pinned at the versions in `ssmspec.peers.PINS`: a failure stays a failure and a pass a pass
until a pin changes. Each library is skipped, with the reason, where it cannot be imported
(`mamba-ssm` and `causal-conv1d` come from their PyPI sdists: `ssmspec peers`, which `tox -e
peers` runs first, fetches them; these tests never do).

Reproduce any row with `ssmspec check PRIMITIVE FUNCTION --dtype FORMAT` (the adapter and scope
are found by name); the numbers are at 6 derandomized inputs per (method, format).
"""

import functools
import os
from pathlib import Path

import numpy as np
import pytest

from ssmspec import check, harness, peers, registry
from ssmspec.spec import Case
from ssmspec.specs.scans import make_case
from ssmspec.strategies import boundary_lengths, representable

EXAMPLES = 6
ROOT = Path(__file__).resolve().parents[1]

# function -> format -> (verdict, the failure classes' keys must contain each of these, and the
# worst finite err/bound at least this (failures) or at most 1 (passes))
FINDINGS = {
    "mamba_ssm.ops.selective_scan_interface:selective_scan_ref": {
        # it casts B/C (per step) and u, delta to fp32: fp64 runs compute in fp32
        "fp64": ("fail", ("over bound", "expected scalar type Double but found Float"), 1e6),
        "fp32": ("pass", (), None),
        # the last state comes back in fp32 for an fp16/bf16 input
        "fp16": ("fail", ("wrong output: last_state: dtype",), None),
        "bf16": ("fail", ("wrong output: last_state: dtype",), None),
    },
    "mamba_ssm.ops.triton.selective_state_update:selective_state_update_ref": {
        "fp64": ("pass", (), None), "fp32": ("pass", (), None),
        # no cast: fp16/bf16 steps are computed in fp16/bf16, over the fp32-compute bound
        "fp16": ("fail", ("over bound",), 1.0), "bf16": ("fail", ("over bound",), 1.0),
    },
    "mamba_ssm.modules.ssd_minimal:ssd_minimal_discrete": {  # the cancellation below
        f: ("fail", ("over bound",), 1.0) for f in ("fp64", "fp32", "bf16")},
    "causal_conv1d.causal_conv1d_interface:causal_conv1d_ref": {
        f: ("pass", (), None) for f in ("fp64", "fp32", "fp16", "bf16")},
    "fla.ops.hgrn.naive:naive_recurrent_hgrn": {
        # computes in fp32 whatever the format
        "fp64": ("fail", ("over bound",), 1e6),
        "fp32": ("pass", (), None), "fp16": ("pass", (), None), "bf16": ("pass", (), None),
    },
    "fla.ops.simple_gla.naive:naive_recurrent_simple_gla": {
        # computes in fp32 and returns its final state in fp32 whatever the format
        "fp64": ("fail", ("wrong output: final_states: dtype",), None),
        "fp32": ("pass", (), None),
        "bf16": ("fail", ("wrong output: final_states: dtype",), None),
    },
    # the last state read out through C = e_n (ssmspec.peers.mambapy); no cast: fp16/bf16 are
    # computed in the narrow format, over the fp32-compute bound
    "mambapy.mamba:MambaBlock.selective_scan": {
        "fp64": ("pass", (), None), "fp32": ("pass", (), None),
        "fp16": ("fail", ("over bound",), 1.0), "bf16": ("fail", ("over bound",), 1.0),
    },
    # its zero state is allocated in the default dtype (fp32): an fp16/bf16 matmul then raises
    "mambapy.mamba:MambaBlock.selective_scan_seq": {
        "fp64": ("pass", (), None), "fp32": ("pass", (), None),
        "fp16": ("fail", ("raised: RuntimeError: expected scalar type Float but found Half",),
                 None),
        "bf16": ("fail", ("raised: RuntimeError: expected scalar type Float but found BFloat",),
                 None),
    },
    # g.view(B, chunk_size, D): raises at every T but 64 (and at T = 64: below)
    "fla.ops.hgrn.naive:naive_chunk_hgrn": {
        f: ("fail", ("raised: RuntimeError: shape",), None)
        for f in ("fp64", "fp32", "fp16", "bf16")},
    # computes in fp32 and returns o in fp32 (no cast back); an fp64/bf16 initial state meets fp32
    # in a matmul; in fp32, exp(cumsum(g)_i − cumsum(g)_j) cancels as ssd_minimal_discrete does
    "fla.ops.simple_gla.naive:naive_chunk_simple_gla": {
        "fp64": ("fail", ("wrong output: y: dtype",
                          "raised: RuntimeError: expected scalar type Float but found Double"),
                 None),
        "fp32": ("fail", ("over bound",), 1.0),
        "bf16": ("fail", ("wrong output: y: dtype",), None),
    },
    "mambapy.pscan:pscan": {f: ("pass", (), None)
                            for f in ("fp64", "fp32", "fp16", "bf16", "c128", "c64")},
    "s5.jax_compat:associative_scan": {f: ("pass", (), None)
                                       for f in ("fp64", "fp32", "fp16", "bf16", "c128", "c64")},
    "accelerated_scan.ref:scan": {  # raises at L = 1 (below), within the bound elsewhere
        f: ("fail", ("raised: RuntimeError: shape",), None)
        for f in ("fp64", "fp32", "fp16", "bf16", "c128", "c64")},
}


# function -> the laws (`name (format)`) it fails in the run (`ssmspec peers`, 10 inputs): the
# fp64 laws of the peers that compute in fp32, and those whose inputs reach a length it raises at
LAWS_FAILED = {
    "mamba_ssm.ops.selective_scan_interface:selective_scan_ref": (
        "layouts_agree (fp64)", "lti_equals_convolution (fp64)"),
    "fla.ops.hgrn.naive:naive_recurrent_hgrn": (
        "linearity (fp64)", "ones_cumsum (fp64)", "zero_resets (fp64)"),
    "fla.ops.hgrn.naive:naive_chunk_hgrn": (
        "linearity (fp64)", "methods_agree (fp64)", "ones_cumsum (fp64)", "split (fp64)",
        "zero_resets (fp64)"),
    "fla.ops.simple_gla.naive:naive_recurrent_simple_gla": ("is_selective_scan (fp64)",),
    "fla.ops.simple_gla.naive:naive_chunk_simple_gla": (
        "chunk_invariance (fp64)", "is_selective_scan (fp64)"),
    "accelerated_scan.ref:scan": (
        "linearity (fp64)", "ones_cumsum (fp64)", "reverse_flip (fp64)", "split (fp64)",
        "zero_resets (fp64)"),
}


def _peer(function: str):
    p = peers.by_function(function)
    why = peers.availability(p, fetch=False)  # never a download from the default test run
    if why is not None:
        pytest.skip(f"{p.library}: {why}")
    peers.load(p.library)
    return p, p.implementation()


@functools.cache
def _result(function: str):
    p, impl = _peer(function)
    return check.check(p.primitive, impl, examples=EXAMPLES, bad_inputs=False, laws=False)


@pytest.mark.parametrize("function,fmt", [(f, d) for f, ds in FINDINGS.items() for d in ds])
def test_pinned_finding(function, fmt):
    verdict, classes, worst = FINDINGS[function][fmt]
    res = _result(function)
    s = next(s for s in res.searches if s.dtype == fmt)
    keys = " | ".join(s.classes)
    assert ("pass" if s.passed else "fail") == verdict, f"{function} {fmt}: {keys}"
    for c in classes:
        assert c in keys, f"{function} {fmt}: no class {c!r} in {keys}"
    if verdict == "pass":
        assert s.worst_finite <= 1.0
    elif worst is not None:
        assert s.worst_finite >= worst, f"{function} {fmt}: worst {s.worst_finite:.3g}"


def _ssd_cancellation_case(fmt: str) -> Case:
    """One chunk of 64: 32 steps of Δ = 10, a = −7 (A_cumsum reaches −2240), then 32 of
    Δ = 1e-4: exp(A_cumsum[−1] − A_cumsum) subtracts two numbers near −2240 to get ~0.2."""
    rng = np.random.default_rng(0)
    L = 64
    arr = {"x": rng.normal(size=(1, L, 1, 2)),
           "dt": np.where(np.arange(L) < 32, 10.0, 1e-4)[None, :, None], "A": np.array([-7.0]),
           "B": rng.normal(size=(1, L, 1, 2)), "C": rng.normal(size=(1, L, 1, 2))}
    return Case({k: representable(v, fmt) for k, v in arr.items()}, fmt, {"chunk_size": 64})


@pytest.mark.parametrize("fmt,over", [("fp64", 50.0), ("fp32", 3.0)])
def test_ssd_minimal_discrete_cancels_inside_a_decaying_chunk(fmt, over):
    """ssd_minimal_discrete forms exp(A_cumsum[..., −1:] − A_cumsum): measured 100× over the fp64
    bound (6.9× fp32) on this input; the built-in's suffix sums stay within it (≤ 0.04)."""
    _, impl = _peer("mamba_ssm.modules.ssd_minimal:ssd_minimal_discrete")
    spec, case = registry.spec("ssd_scan"), _ssd_cancellation_case(fmt)
    m = harness.evaluate(spec, impl.fn, case, "chunked", "cpu")
    b = harness.evaluate(spec, registry.implementation("ssd_scan", "torch").fn, case,
                         "chunked", "cpu")
    assert m.kind == "over bound" and m.max_ratio > over, m.describe()
    assert b.passed and b.max_ratio < 0.1, b.describe()


def test_accelerated_scan_ref_raises_only_at_length_one():
    """T = 1 pads to 1, a tree of 0 levels, and its `split` cannot halve one element."""
    _, impl = _peer("accelerated_scan.ref:scan")
    spec = registry.spec("linear_scan")
    rng = np.random.default_rng(0)
    for L in boundary_lengths(257):
        for fmt in ("fp64", "fp32", "c64"):
            a, b = rng.uniform(0.5, 1.0, (3, L)), rng.normal(size=(3, L))
            if fmt == "c64":
                a, b = a * np.exp(1j * rng.uniform(-1, 1, (3, L))), b + 1j * b[::-1]
            case = make_case(fmt, a, b, h0=None, reverse=bool(L % 2))
            m = harness.evaluate(spec, impl.fn, case, "associative", "cpu")
            if L == 1:
                assert m.raised and "invalid for input of size" in m.raised, m.describe()
            else:
                assert m.passed, f"L={L} {fmt}: {m.describe()}"


def test_naive_chunk_hgrn_runs_only_at_its_chunk_length():
    """fla's naive_chunk_hgrn reshapes the gate as g.view(B, chunk_size, D): at T = 64 (its
    default chunk) it is fla's naive HGRN in chunk form, fp32 arithmetic (within the bound in
    fp32, fp16, bf16; fp64 far over it); at any other T it raises."""
    _, impl = _peer("fla.ops.hgrn.naive:naive_chunk_hgrn")
    spec = registry.spec("linear_scan")
    rng = np.random.default_rng(0)
    for L in (1, 2, 63, 64, 65, 128, 257):
        for fmt in ("fp64", "fp32", "fp16", "bf16"):
            a, b = rng.uniform(0.5, 1.0, (3, L)), rng.normal(size=(3, L))
            case = make_case(fmt, a, b, h0=rng.normal(size=3))
            m = harness.evaluate(spec, impl.fn, case, "logspace", "cpu")
            if L != 64:
                assert m.raised and "is invalid for input of size" in m.raised, m.describe()
            elif fmt == "fp64":
                assert m.kind == "over bound" and m.max_ratio > 1e6, m.describe()
            else:
                assert m.passed, f"L={L} {fmt}: {m.describe()}"


def _run_findings() -> tuple[Path, dict]:
    from ssmspec.peers import leaderboard

    path = Path(os.environ.get("SSMSPEC_PEERS_JSON", ROOT / "peers-out" / "peers.json"))
    if not path.exists():
        pytest.skip(f"{path}: no peers.json (`ssmspec peers --out peers-out` writes it; "
                    "tox -e peers runs it before these tests)")
    return path, leaderboard.read(path)


def _without_time(table: str) -> list[list[str]]:
    """The table's rows, each cell but the time against the built-in (which varies run to run)."""
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in table.splitlines() if line.startswith("|")]
    col = rows[0].index("time vs built-in")
    return [r[:col] + r[col + 1:] for r in rows]


def test_readme_findings_table_is_the_one_peers_json_gives():
    """README's Findings table is `findings(peers.json)` of the last run (timings aside): if a
    run finds otherwise, `ssmspec peers --from peers-out/peers.json --readme README.md`
    regenerates it, and this fails until it is."""
    from ssmspec.peers import leaderboard

    path, board = _run_findings()
    readme = leaderboard.findings_in((ROOT / "README.md").read_text())
    assert _without_time(readme) == _without_time(leaderboard.findings(board)), (
        f"README's Findings table is stale against {path}: run `ssmspec peers --from {path} "
        "--readme README.md`")


def test_the_run_checked_every_pinned_function_and_pinned_every_function_it_checked():
    """The run's peers.json has a row for each pinned (function, format) and nothing unpinned:
    a newly registered peer is pinned here before it is published."""
    _, board = _run_findings()
    run = {(r["function"], r["dtype"]) for r in board["rows"]}
    assert run == {(f, d) for f, ds in FINDINGS.items() for d in ds}
    assert len({r["function"] for r in board["rows"]}) >= 12
    assert len({r["library"] for r in board["rows"]}) >= 5


def test_the_run_fails_the_pinned_laws_and_no_others():
    """The laws each peer function fails in the run (peers.json) are those pinned in
    LAWS_FAILED (none for a function not named there)."""
    from ssmspec.peers import leaderboard

    _, board = _run_findings()
    by_fn: dict[str, list[dict]] = {}
    for r in board["rows"]:
        by_fn.setdefault(r["function"], []).append(r)
    for fn, rows in by_fn.items():
        assert tuple(leaderboard.laws_failed(rows)) == LAWS_FAILED.get(fn, ()), fn


def test_readme_findings_table_agrees_with_the_pins():
    """README's Findings table (generated from peers.json) says pass/fail as FINDINGS does."""
    text = (ROOT / "README.md").read_text()
    table = text.split("<!-- peers-findings -->")[1].split("<!-- /peers-findings -->")[0]
    rows = {}
    for line in (x for x in table.splitlines() if x.startswith("| `")):
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) >= 4:
            rows[cells[0].strip("`")] = (cells[2], cells[3])
    assert set(rows) == set(FINDINGS)
    for fn, by_fmt in FINDINGS.items():
        passes, fails = rows[fn]
        for fmt, (verdict, _, _) in by_fmt.items():
            cell = passes if verdict == "pass" else fails
            assert fmt in [c.split(" ")[0] for c in cell.split(", ") if c], (fn, fmt, verdict)
