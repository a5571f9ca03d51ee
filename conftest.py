"""Root conftest for the repository's test folders (tests/, perf/): the hypothesis profile."""

from ssmspec import profiles

profiles.load()
