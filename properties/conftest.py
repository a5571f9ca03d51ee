"""Loads the hypothesis profile named by SSMSPEC_PROFILE (default `ci`)."""

from ssmspec import profiles

profiles.load()
