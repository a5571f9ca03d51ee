import pytest
from hypothesis import settings

from ssmspec import profiles


def test_profiles_load_and_default(monkeypatch):
    monkeypatch.delenv("SSMSPEC_PROFILE", raising=False)
    try:
        assert profiles.load() == "ci"
        assert settings.default.derandomize
        monkeypatch.setenv("SSMSPEC_PROFILE", "nightly")
        assert profiles.load() == "nightly"
        assert settings.default.max_examples >= 200 and not settings.default.derandomize
    finally:
        monkeypatch.delenv("SSMSPEC_PROFILE", raising=False)
        profiles.load()


def test_unknown_profile_names_the_variable(monkeypatch):
    monkeypatch.setenv("SSMSPEC_PROFILE", "weekly")
    with pytest.raises(ValueError, match="SSMSPEC_PROFILE"):
        profiles.load()


@pytest.mark.parametrize("profile", profiles.PROFILES)
def test_check_runs_under_every_profile(profile, monkeypatch, capsys):
    """`ssmspec check` under each profile, by SSMSPEC_PROFILE and by --profile: its example
    counts exist (no KeyError), the flag accepts it, and a derandomized profile prints no seed."""
    from ssmspec import cli

    assert profiles.check_examples(profile) >= 1
    assert profiles.check_examples(profile, realistic=True) >= 1
    args = ["check", "linear_scan", "torch", "--method", "sequential", "--dtype", "fp64",
            "--examples", "2", "--no-laws", "--no-bad-input", "--no-shrink"]
    monkeypatch.setenv("SSMSPEC_PROFILE", profile)
    try:
        assert cli.main(args) == 0
        assert cli.main([*args, "--profile", profile]) == 0
    finally:
        monkeypatch.delenv("SSMSPEC_PROFILE", raising=False)
        profiles.load()
    seeded = "--seed" in capsys.readouterr().out
    assert seeded != profiles.derandomized(profile)
