"""README.md and .ci/run tell the same story: CI runs exactly the README's test command."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _quick_start_commands():
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", text, re.S).group(1)
    return [ln.strip() for ln in block.splitlines() if ln.strip() and not ln.startswith("#")]


def test_quick_start_is_two_commands():
    cmds = _quick_start_commands()
    assert len(cmds) == 2
    assert "ssmspec report" in cmds[0] and "pytest" in cmds[1]


def test_ci_runs_the_readme_test_command_exactly():
    test_cmd = _quick_start_commands()[1]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_cmd in [ln.strip() for ln in ci]


def test_readme_lists_every_registered_primitive():
    from ssmspec import registry

    text = (ROOT / "README.md").read_text()
    for s in registry.specs():
        assert f"`{s.name}`" in text, f"README's table lacks {s.name}"
