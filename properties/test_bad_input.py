"""Bad input (docs/bad-input.md#the-contract): the right exception type, with the argument named in
the message; and the valid call each row changes is accepted, so that a row fails for its own
reason."""

from __future__ import annotations

import re

import pytest

from ssmspec import registry, scope
from ssmspec.speckit import ChangedCall

IMPLS = {s.name: [i for i in registry.implementations(s.name) if i.available]
         for s in registry.specs()}
CASES = [pytest.param(b, impl, id=f"{b.primitive}-{impl.name}-{b.name}")
         for b in registry.bad_inputs() for impl in IMPLS[b.primitive]]
# one row per distinct valid call a spec's rows change
_BASES = {(b.primitive, id(b.call.valid)): b for b in registry.bad_inputs()
          if isinstance(b.call, ChangedCall)}
BASES = [pytest.param(b, impl, id=f"{b.primitive}-{impl.name}-{n}")
         for n, b in enumerate(_BASES.values()) for impl in IMPLS[b.primitive]]


def _guarded(bad, impl):
    return scope.guarded(registry.spec(bad.primitive), impl)


@pytest.mark.parametrize("bad, impl", CASES)
def test_bad_input_raises_naming_argument(bad, impl):
    try:
        with pytest.raises(bad.error) as info:
            bad.call(_guarded(bad, impl))
    except scope.OutOfScope as exc:  # the call uses a feature the implementation lacks
        pytest.skip(f"outside the declared scope: {exc}")
    assert re.search(rf"\b{re.escape(bad.argument)}\b", str(info.value)), (
        f"message does not name {bad.argument!r}: {info.value}")


@pytest.mark.parametrize("bad, impl", BASES)
def test_valid_call_of_bad_inputs_is_accepted(bad, impl):
    try:
        bad.call.base(_guarded(bad, impl))
    except scope.OutOfScope as exc:
        pytest.skip(f"outside the declared scope: {exc}")
