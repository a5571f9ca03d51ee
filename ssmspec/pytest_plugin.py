"""The ssmspec pytest plugin (registered as a `pytest11` entry point).

    pytest --pyargs ssmspec.properties --ssmspec-impl linear_scan=mypkg.scans:scan \\
        [--ssmspec-adapter mypkg.adapters:to_canonical] [--ssmspec-xfail mypkg/xfail.toml] \\
        [--ssmspec-without FEATURE ...] [--ssmspec-only] [--ssmspec-size L=4096 ...]
        [--ssmspec-regime realistic]

registers each named function as an implementation before the properties are collected, so every
generic property (conformance within the bound, laws, output dtype and device, bad input) runs on
it as on the built-ins. `--ssmspec-without FEATURE` (repeatable) declares an optional feature of
the primitive the outside functions lack (`ssmspec list` names them): inputs and laws stay
inside that scope. `--ssmspec-only` keeps only the outside implementations' targets.
The plugin does nothing unless one of its options is given.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("ssmspec", "ssmspec: check outside implementations")
    g.addoption("--ssmspec-impl", action="append", default=[], metavar="PRIMITIVE=MOD:FN",
                help="register pkg.module:function as an implementation of PRIMITIVE "
                     "(repeatable)")
    g.addoption("--ssmspec-adapter", action="append", default=[], metavar="MOD:FN",
                help="adapter(fn) -> fn with the canonical signature, one per --ssmspec-impl "
                     "in the same order, or one for all")
    g.addoption("--ssmspec-xfail", default=None, metavar="FILE",
                help="TOML file of expected failures ([[xfail]] primitive, method, dtype, "
                     "reason) of the outside implementations")
    g.addoption("--ssmspec-without", action="append", default=[], metavar="FEATURE",
                help="an optional feature the outside implementations lack (repeatable), e.g. "
                     "initial_state or conj_half=False")
    g.addoption("--ssmspec-only", action="store_true",
                help="run the properties on the outside implementations only")
    g.addoption("--ssmspec-size", action="append", default=[], metavar="NAME=VALUE",
                help="fix a size parameter (as `ssmspec list` names it) in the conformance "
                     "properties of every primitive that has it (repeatable)")
    g.addoption("--ssmspec-regime", choices=("default", "realistic"), default=None,
                help="draw the other sizes from the spec's small shapes (default) or the sizes "
                     "kernels ship with (realistic)")


def _configure_shapes(config: pytest.Config) -> None:
    """--ssmspec-size / --ssmspec-regime, passed to the properties as SSMSPEC_SIZES and
    SSMSPEC_REGIME (read when they are collected); an unknown size name is a usage error."""
    import os

    sizes, regime = config.getoption("--ssmspec-size"), config.getoption("--ssmspec-regime")
    if not sizes and regime is None:
        return
    from ssmspec import registry, strategies

    known = sorted({n for s in registry.specs() for n in s.sizes})
    try:
        for text in sizes:
            strategies.parse_sizes([text], tuple(known), "any primitive")
    except ValueError as exc:
        raise pytest.UsageError(str(exc).replace("--size", "--ssmspec-size")) from exc
    os.environ["SSMSPEC_SIZES"] = ",".join(sizes)
    if regime is not None:
        os.environ["SSMSPEC_REGIME"] = regime


def pytest_configure(config: pytest.Config) -> None:
    _configure_shapes(config)
    given = config.getoption("--ssmspec-impl")
    if not given:
        return
    from ssmspec import plugins, registry, scope

    adapters = config.getoption("--ssmspec-adapter")
    if adapters and len(adapters) not in (1, len(given)):
        raise pytest.UsageError("--ssmspec-adapter: give one, or one per --ssmspec-impl")
    names = []
    for i, text in enumerate(given):
        try:
            prim, target = plugins.parse_assignment(text)
            adapter = adapters[i if len(adapters) > 1 else 0] if adapters else None
            impl = plugins.outside(prim, target, adapter=adapter,
                                   xfail=config.getoption("--ssmspec-xfail"),
                                   without=scope.validate(registry.spec(prim),
                                                          config.getoption("--ssmspec-without")))
            registry.register_implementation(impl)
        except (ValueError, TypeError, ImportError) as exc:
            raise pytest.UsageError(f"--ssmspec-impl {text}: {exc}") from exc
        names.append(impl.name)
    config._ssmspec_outside = names  # noqa: SLF001 - read back in collection


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    names = getattr(config, "_ssmspec_outside", None)
    if not names or not config.getoption("--ssmspec-only"):
        return
    keep, drop = [], []
    for item in items:
        (keep if any(f"-{n}-" in item.nodeid or item.nodeid.endswith(f"-{n}]")
                     for n in names) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
