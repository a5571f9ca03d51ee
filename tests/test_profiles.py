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
