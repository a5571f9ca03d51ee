"""The peers registry (`ssmspec.peers`), with no peer library installed: every record is
well-formed, `ssmspec list --peers` says what is importable, and `ssmspec check` finds a
registered peer's adapter and scope by the function's name."""

import pytest

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
