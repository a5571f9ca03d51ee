"""The peers registry (`ssmspec.peers`), with no peer library installed: every record is
well-formed, `ssmspec list --peers` says what is importable, and `ssmspec check` finds a
registered peer's adapter and scope by the function's name."""

import pytest
import torch

from ssmspec import cli, peers, registry, scope
from ssmspec.peers.records import Peer
from ssmspec.plugins import load_callable


def test_every_peer_is_well_formed():
    ps = peers.known()
    assert len({p.function for p in ps}) == len(ps), "a function registered twice"
    assert {p.library for p in ps} <= set(peers.PINS)
    for p in ps:
        spec = registry.spec(p.primitive)
        assert set(p.methods) <= set(spec.methods), p
        scope.validate(spec, p.without)
        assert set(p.dtypes or ()) <= set(spec.dtypes), p
        assert callable(load_callable(p.adapter, "adapter")), p
        assert peers.by_function(p.function) is p


def test_at_least_twelve_peer_functions_across_six_libraries():
    ps = peers.known()
    assert len({(p.function, p.primitive) for p in ps}) >= 12
    assert len({p.library for p in ps}) >= 6


def test_cuda_only_peers_are_reported_as_such_on_the_cpu():
    cuda = [p for p in peers.known() if p.devices == ("cuda",)]
    assert cuda and all(peers.availability(p, "cpu").startswith("needs cuda") for p in cuda)
    # a record that says more says it (fla's Triton kernels under the interpreter)
    said = [p for p in cuda if p.unavailable]
    assert said and all(p.unavailable in peers.availability(p, "cpu") for p in said)


def test_list_peers_names_each_function_and_says_whether_importable(capsys):
    assert cli.main(["list", "--peers"]) == 0
    out = capsys.readouterr().out
    for p in peers.known():
        assert p.function in out
    assert out.count("  here:     ") == len(peers.known())


DEMO = Peer("demo", "ssmspec.impl.scans:linear_scan", "linear_scan",
            "ssmspec.peers:accelerated_scan", ("associative",), ("h0",))


def test_check_resolves_a_registered_peer_by_name(monkeypatch, capsys):
    monkeypatch.setattr(peers, "known", lambda: (DEMO,))
    rc = cli.main(["check", "linear_scan", DEMO.function, "--examples", "3", "--dtype", "fp64",
                   "--no-laws", "--quiet"])
    err = capsys.readouterr().err
    assert "registered peer (demo), adapter ssmspec.peers:accelerated_scan" in err
    assert "without h0" in err
    assert rc == 0, err


def test_sdist_not_fetched_is_a_reason_not_a_download(monkeypatch, tmp_path):
    from ssmspec.peers import sdist

    monkeypatch.setenv("SSMSPEC_PEERS_CACHE", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="not in"):
        sdist.load("ssmspec_no_such_peer", "no-such-peer", "1.0", "0" * 64, fetch=False)


def test_leaderboard_json_follows_its_schema(monkeypatch, tmp_path):
    import json

    jsonschema = pytest.importorskip("jsonschema")
    from ssmspec.peers import leaderboard

    cuda_only = Peer("demo", "ssmspec.impl.scans:linear_scan", "linear_scan",
                     "ssmspec.peers:accelerated_scan", ("associative",), devices=("cuda",))
    monkeypatch.setattr(leaderboard, "known", lambda: (DEMO, cuda_only))
    board = leaderboard.build(examples=2, timing=False)
    assert [r["dtype"] for r in board["rows"]] == list(registry.spec("linear_scan").dtypes)
    assert board["skipped"] == [{"library": "demo", "function": cuda_only.function,
                                 "primitive": "linear_scan", "reason": "needs cuda"}]
    j, m = leaderboard.write(board, tmp_path)
    schema = json.loads(leaderboard.SCHEMA_FILE.read_text())
    jsonschema.validate(json.loads(j.read_text()), schema)
    assert DEMO.function in m.read_text()


def test_readme_findings_rewritten_from_a_peers_json(monkeypatch, tmp_path):
    """`ssmspec peers --from peers.json --readme README.md` replaces the table between the
    markers by `findings(board)` and leaves the rest of the file as it was."""
    from ssmspec.peers import leaderboard

    monkeypatch.setattr(leaderboard, "known", lambda: (DEMO,))
    board = leaderboard.build(examples=2, timing=False)
    j, _ = leaderboard.write(board, tmp_path / "run")
    start, end = leaderboard.MARKERS
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\nbefore\n{start}\n| stale | table |\n{end}\nafter\n")
    assert cli.main(["peers", "--from", str(j), "--out", str(tmp_path / "again"),
                     "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert leaderboard.findings_in(text) == leaderboard.findings(board)
    assert text.startswith("# title\n\nbefore\n") and text.endswith(f"{end}\nafter\n")
    assert "stale" not in text and DEMO.function in text
    readme.write_text("no markers\n")
    with pytest.raises(SystemExit, match="--readme .*README.md: text: expected the markers"):
        cli.main(["peers", "--from", str(j), "--out", str(tmp_path / "x"), "--readme",
                  str(readme)])
    with pytest.raises(SystemExit, match="--from: .*expected a peers.json, got text that is not"):
        cli.main(["peers", "--from", str(readme), "--out", str(tmp_path / "x")])
    (tmp_path / "other.json").write_text('{"schema": "ssmspec.report/1"}')
    with pytest.raises(SystemExit, match="of schema ssmspec.peers/1, got 'ssmspec.report/1'"):
        cli.main(["peers", "--from", str(tmp_path / "other.json"), "--out", str(tmp_path / "x")])


def test_timed_on_the_benchmark_input_less_the_features_the_peer_lacks():
    from ssmspec.peers import leaderboard

    lacking = Peer("demo", "ssmspec.impl.scans:linear_scan", "selective_scan",
                   "ssmspec.peers:accelerated_scan", ("zoh_approx",),
                   ("z", "delta_bias", "delta_softplus", "initial_state"))
    spec = registry.spec("selective_scan")
    full = spec.bench_for(leaderboard.BENCH_FORMAT, "zoh_approx")
    case, dropped = leaderboard.scoped_bench(spec, lacking, "zoh_approx")
    assert {"z", "delta_bias"} <= set(full.arrays) and full.params["delta_softplus"] is True
    assert dropped == ["z", "delta_bias", "delta_softplus"]  # no initial state to drop
    assert not {"z", "delta_bias"} & set(case.arrays) and case.params["delta_softplus"] is False
    assert set(case.arrays) == set(full.arrays) - {"z", "delta_bias"}


def test_paired_timing_reports_the_median_ratio_and_its_range():
    from ssmspec.peers import leaderboard

    threads = torch.get_num_threads()
    t = leaderboard.time_against_builtin(DEMO, registry.implementation("linear_scan", "torch"),
                                         "associative", "cpu", repeats=3)
    assert "error" not in t, t
    assert t["pairs"] == 3 and t["peer_s"] > 0 and t["builtin_s"] > 0
    assert t["ratio"] == t["peer_s"] / t["builtin_s"] and t["ratio_lo"] <= t["ratio_hi"]
    assert len(t["load"]) == 2 and t["threads"] == 1
    assert torch.get_num_threads() == threads  # restored after the timing
