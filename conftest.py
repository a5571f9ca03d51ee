"""Root conftest for the repository's test folders (tests/, perf/): the hypothesis profile, and
one worker per ssmspec command unless SSMSPEC_WORKERS is set (pytest -n runs the tests wide; a
test of parallelism asks for its workers explicitly)."""

import os

from ssmspec import profiles

os.environ.setdefault("SSMSPEC_WORKERS", "1")

profiles.load()
