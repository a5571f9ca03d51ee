"""The random-seed campaign (`python -m ssmspec.campaign`, tox -e seeds): what it runs, that it
reports a failure with a command that reproduces it, and that it passes the built-ins."""

import pytest

from ssmspec import campaign, registry
from ssmspec.check import CheckResult, Outcome, Search
from ssmspec.errors import Measurement, OutputMeasurement
from ssmspec.spec import Implementation


def test_builtins_are_the_available_builtin_implementations():
    impls = campaign.builtins()
    assert {i.primitive for i in impls} == {s.name for s in registry.specs()}
    assert all(i.source.startswith("builtin") and i.available for i in impls)


def test_a_failing_search_and_law_are_alarms_with_their_reproduce_commands():
    from ssmspec.spec import Case

    bad = Measurement({"out": OutputMeasurement("out", 2.0, 3.0, (0,), 2e-300, 1e-300, 0.0)})
    failing = Search("laplace", "fp64")
    failing.add(Case({}, "fp64"), bad)  # one input over its bound: a failure class
    res = CheckResult("mega_attention", "torch", "cpu", 303,
                      searches=[failing, Search("softmax", "fp64", examples=30)],
                      outcomes=[Outcome("law", "some_law", "AssertionError: off\nmore"),
                                Outcome("law", "other_law")])
    alarms = campaign.alarms_of(res, 30)
    assert [a.what for a in alarms] == ["search laplace fp64: err/bound 2",
                                        "law some_law: AssertionError: off"]
    assert alarms[0].command == ("ssmspec check mega_attention torch --method laplace --dtype "
                                 "fp64 --device cpu --profile dev --seed 303 --examples 30 "
                                 "--no-bad-input")
    assert "--method" not in alarms[1].command and "--seed 303" in alarms[1].command


def test_run_finds_a_known_bad_kernel():
    """A mutant passed off as a built-in (S4D's conj_half factor of 2 forgotten) is an alarm."""
    m = next(m for m in registry.mutants("diag_kernel") if m.name == "no_factor_two")
    impl = Implementation("diag_kernel", "no_factor_two", m.fn, methods=("zoh",),
                          dtypes=("fp64",), devices=("cpu",), source="builtin (test)")
    alarms = campaign.run([1], examples=5, impls=[impl], log=lambda _: None)
    assert any(a.what.startswith("search zoh fp64") for a in alarms)


def test_main_passes_on_a_builtin_and_rejects_bad_arguments(capsys):
    assert campaign.main(["--seed", "5", "--examples", "3", "--primitive", "hippo"]) == 0
    assert "no false alarm" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        campaign.main(["--primitive", "no_such_primitive"])
    with pytest.raises(SystemExit):
        campaign.main(["--examples", "0"])
