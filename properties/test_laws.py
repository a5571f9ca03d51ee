"""Every law of every primitive, on every available implementation, format and device."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssmspec import registry
from ssmspec.scope import OutOfScope
from ssmspec.spec import LawContext


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
@given(data=st.data())
def test_law(law, impl, fmt, device, data):
    ctx = LawContext(impl=impl, dtype=fmt, device=device, draw=data.draw,
                     impl_of=lambda p: registry.same_family(p, impl.name))
    try:
        law.check(ctx)
    except OutOfScope as exc:  # an implementation declared without what the law needs
        pytest.skip(f"outside the declared scope: {exc}")
