"""Every law of every primitive, on every available implementation, format and device (each law
run by `ssmspec.laws.run_law` under the active hypothesis profile)."""

from __future__ import annotations

import pytest

from ssmspec import registry
from ssmspec.laws import run_law


def _law_targets():
    out = []
    for law in registry.laws():
        for impl in registry.implementations(law.primitive):
            if not impl.available:
                continue
            for d in law.dtypes:
                if impl.dtypes and d not in impl.dtypes:
                    continue
                for dev in registry.devices():
                    if dev in impl.devices:
                        out.append(pytest.param(law, impl, d, dev,
                                                id=f"{law.primitive}-{law.name}-{impl.name}-{d}-{dev}"))
    return out


@pytest.mark.parametrize("law, impl, fmt, device", _law_targets())
def test_law(law, impl, fmt, device):
    verdict = run_law(law, impl, fmt, device)
    if verdict.out_of_scope:  # an implementation declared without what the law needs
        pytest.skip(f"outside the declared scope: {verdict.reason}")
    verdict.raise_for_status()
