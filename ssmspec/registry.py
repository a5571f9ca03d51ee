"""name -> Spec; primitive -> implementations, mutants, laws, bad inputs.

Each module of `ssmspec.specs` declares its primitives, each in one `register_spec` call (spec,
implementations, laws, mutants, bad inputs); `load()` imports every module of the package once
(discovered with pkgutil: a new module needs no list entry). Outside implementations are registered
with `register_implementation` and appear in every generic property, the report and
`ssmspec list` like the built-in ones.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import pkgutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import torch

from ssmspec.spec import BadInput, Implementation, Law, Mutant, Spec

_SPECS: dict[str, Spec] = {}
_IMPLS: dict[str, dict[str, Implementation]] = {}
_MUTANTS: list[Mutant] = []
_LAWS: list[Law] = []
_BAD: list[BadInput] = []
_loaded = False


def register_spec(spec: Spec, *,
                  implementations: Mapping[str, Callable] | Iterable[Implementation] = (),
                  laws: Iterable[Law] = (), mutants: Iterable[Mutant] = (),
                  bad_inputs: Iterable[BadInput | tuple] = ()) -> Spec:
    """Register `spec` with everything that belongs to it: its built-in `implementations`
    (`{"torch": fn, ...}`, or `Implementation` records where one needs more than a function), its
    `laws`, its `mutants` and its `bad_inputs` (`BadInput`s or rows `(name, argument, error,
    call)`). Each part is stamped with `spec.name` as its primitive (one naming another primitive
    is an error). The one registration site of a built-in primitive; returns `spec`."""
    if spec.name in _SPECS:
        raise ValueError(f"register_spec: primitive {spec.name!r} is registered already")
    if isinstance(implementations, Mapping):
        implementations = [Implementation(spec.name, k, fn) for k, fn in implementations.items()]
    bad_inputs = [b if isinstance(b, BadInput) else BadInput(*b) for b in bad_inputs]
    parts = {"implementations": list(implementations), "laws": list(laws),
             "mutants": list(mutants), "bad_inputs": bad_inputs}
    for kind, items in parts.items():
        for k, item in enumerate(items):
            if not item.primitive:
                items[k] = item = dataclasses.replace(item, primitive=spec.name)
            if item.primitive != spec.name:
                raise ValueError(f"register_spec: {kind} entry {item.name!r} names primitive "
                                 f"{item.primitive!r}, expected {spec.name!r}")
    _SPECS[spec.name] = spec
    _IMPLS.setdefault(spec.name, {})
    for impl in parts["implementations"]:
        _IMPLS[spec.name][impl.name] = impl
    _LAWS.extend(parts["laws"])
    _MUTANTS.extend(parts["mutants"])
    _BAD.extend(parts["bad_inputs"])
    return spec


def register_implementation(impl: Implementation) -> Implementation:
    """Add (or replace, by the same name) an implementation of a registered primitive."""
    load()
    if impl.primitive not in _SPECS:
        raise ValueError(
            f"register_implementation: primitive {impl.primitive!r} is not one of {sorted(_SPECS)}"
        )
    _IMPLS[impl.primitive][impl.name] = impl
    return impl


def register_mutant(m: Mutant) -> Mutant:
    _MUTANTS.append(m)
    return m


def register_law(law: Law) -> Law:
    _LAWS.append(law)
    return law


def register_bad_input(b: BadInput) -> BadInput:
    _BAD.append(b)
    return b


def spec_modules() -> list[str]:
    """The names of every spec module of `ssmspec.specs` (each registers on import); a module
    named with a leading underscore is glue shared by spec modules, imported by them."""
    import ssmspec.specs

    return [f"ssmspec.specs.{m.name}" for m in pkgutil.iter_modules(ssmspec.specs.__path__)
            if not m.name.startswith("_")]


def load() -> None:
    """Import every built-in spec module, then the entry-point plug-ins (idempotent)."""
    global _loaded
    if not _loaded:
        _loaded = True
        for name in spec_modules():
            importlib.import_module(name)
        from ssmspec.plugins import entry_point_implementations

        for impl in entry_point_implementations():
            if impl.primitive not in _SPECS:
                import warnings

                warnings.warn(f"ssmspec: plug-in {impl.name!r} names an unknown primitive "
                              f"{impl.primitive!r}", stacklevel=2)
                continue
            _IMPLS[impl.primitive][impl.name] = impl


def specs() -> list[Spec]:
    load()
    return list(_SPECS.values())


def spec(name: str) -> Spec:
    load()
    if name not in _SPECS:
        raise ValueError(f"primitive: expected one of {sorted(_SPECS)}, got {name!r}")
    return _SPECS[name]


def implementations(primitive: str | None = None) -> list[Implementation]:
    load()
    names = [primitive] if primitive else list(_SPECS)
    return [i for n in names for i in _IMPLS.get(n, {}).values()]


def implementation(primitive: str, name: str) -> Implementation:
    impls = {i.name: i for i in implementations(primitive)}
    if name not in impls:
        raise ValueError(f"implementation: {primitive} has {sorted(impls)}, got {name!r}")
    return impls[name]


def mutants(primitive: str | None = None) -> list[Mutant]:
    load()
    return [m for m in _MUTANTS if primitive in (None, m.primitive)]


def laws(primitive: str | None = None) -> list[Law]:
    load()
    return [law for law in _LAWS if primitive in (None, law.primitive)]


def bad_inputs(primitive: str | None = None) -> list[BadInput]:
    load()
    return [b for b in _BAD if primitive in (None, b.primitive)]


def devices() -> list[str]:
    """Devices to run on: `SSMSPEC_DEVICES` (comma-separated) or cpu plus cuda when present."""
    env = os.environ.get("SSMSPEC_DEVICES")
    if env:
        return [d.strip() for d in env.split(",") if d.strip()]
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@dataclass(frozen=True)
class Target:
    """One (primitive, implementation, method, dtype, device) the suite measures."""

    spec: Spec
    impl: Implementation
    method: str
    dtype: str
    device: str

    @property
    def id(self) -> str:
        return f"{self.spec.name}-{self.impl.name}-{self.method}-{self.dtype}-{self.device}"

    @property
    def xfail(self) -> str | None:
        """Why this target is expected to fail (the implementation's xfail data), or None."""
        return self.impl.expected_failure(self.method, self.dtype)


def same_family(primitive: str, impl_name: str) -> Callable:
    """The implementation of `primitive` named `impl_name`, else the built-in `torch` one (what
    a law that calls another primitive uses for an outside implementation)."""
    impls = {i.name: i for i in implementations(primitive)}
    chosen = impls.get(impl_name) or impls.get("torch")
    if chosen is None or not chosen.available:
        raise ValueError(f"{primitive}: no implementation {impl_name!r} and no built-in")
    return chosen.fn


def targets(
    primitives=None, impls=None, methods=None, dtypes=None, devs=None, available_only=True
) -> list[Target]:
    """Every target, filtered by the given collections of names (None: all)."""
    out = []
    for s in specs():
        if primitives and s.name not in primitives:
            continue
        for impl in implementations(s.name):
            if impls and impl.name not in impls:
                continue
            if available_only and not impl.available:
                continue
            for m in impl.methods or s.methods:
                if methods and m not in methods:
                    continue
                for d in s.dtypes_of(m):
                    if (impl.dtypes and d not in impl.dtypes) or (dtypes and d not in dtypes):
                        continue
                    for dev in devs or devices():
                        if dev in impl.devices:
                            out.append(Target(s, impl, m, d, dev))
    return out
