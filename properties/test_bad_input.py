"""Bad input (docs/bad-input.md#the-contract): the right exception type, with the argument named in
the message."""

from __future__ import annotations

import re

import pytest

from ssmspec import registry, scope

CASES = [pytest.param(b, impl, id=f"{b.primitive}-{impl.name}-{b.name}")
         for b in registry.bad_inputs() for impl in registry.implementations(b.primitive)
         if impl.available]


@pytest.mark.parametrize("bad, impl", CASES)
def test_bad_input_raises_naming_argument(bad, impl):
    fn = scope.guarded(registry.spec(bad.primitive), impl)
    try:
        with pytest.raises(bad.error) as info:
            bad.call(fn)
    except scope.OutOfScope as exc:  # the call uses a feature the implementation lacks
        pytest.skip(f"outside the declared scope: {exc}")
    assert re.search(rf"\b{re.escape(bad.argument)}\b", str(info.value)), (
        f"message does not name {bad.argument!r}: {info.value}")
