"""A primitive's spec is data: everything the generic properties, the report and the CLI need.

`Spec` (one per primitive) holds the methods and formats it covers, the hypothesis strategy of its
inputs, its references by tier, its bound (constant, growth and reference magnitude per method),
the adapter that calls an implementation on a `Case`, and its laws, mutants and bad inputs.
A spec is frozen: a primitive's spec module declares it, its sweep, implementations, laws,
mutants and bad inputs in one `ssmspec.registry.register_spec` call, and nothing changes it
afterwards. Outside implementations plug in through `ssmspec.registry.register_implementation`
without touching the spec. The steps of adding a primitive are in README.md, "Adding a primitive".
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import torch

from ssmspec.dtypes import DType, dtype
from ssmspec.errors import higham_bound

# the realistic regime's default budget: the product of the realistic sizes one input may draw
DEFAULT_REALISTIC_WORK = 2**24


@dataclass(frozen=True)
class Case:
    """One input of a primitive.

    `arrays` hold float64/complex128 numpy arrays whose values are exactly representable in the
    format `dtype` (or its real counterpart, for real arguments of a complex run); `params` hold
    everything that is not an array (sizes, flags).
    """

    arrays: Mapping[str, np.ndarray]
    dtype: str
    params: Mapping[str, Any] = field(default_factory=dict)
    # not an init field: a copy (`with_`, `dataclasses.replace`) starts with an empty cache
    _tensors: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    def with_(self, dtype: str | None = None, **changes: Any) -> Case:
        """A copy with the named arrays or params replaced (a name in `arrays` replaces that
        array, any other name a param) and, if given, another format; e.g.
        `case.with_(h0=np.zeros(3), L=64)`. The copy's tensor cache starts empty."""
        arrays, params = dict(self.arrays), dict(self.params)
        for name, value in changes.items():
            if name in arrays or isinstance(value, np.ndarray):
                arrays[name] = value
            else:
                params[name] = value
        return dataclasses.replace(self, arrays=arrays, params=params,
                                   dtype=self.dtype if dtype is None else dtype)

    def without(self, *names: str) -> Case:
        """A copy without the named arrays (an optional input left out, e.g. `without("D")`);
        names it does not have are ignored."""
        return dataclasses.replace(self, arrays={k: a for k, a in self.arrays.items()
                                                 if k not in names})

    def tensor(self, name: str, device: str | torch.device = "cpu", real: bool = False):
        """`arrays[name]` as a torch tensor of the case's format (its real part's, if `real`).

        Converted once per (name, device, real) and cached, so timing a call through the spec's
        adapter measures the implementation, not the conversion.
        """
        key = (name, str(device), real)
        if key not in self._tensors:
            self._tensors[key] = self._convert(name, device, real)
        return self._tensors[key]

    def _convert(self, name: str, device, real: bool):
        d = dtype(self.dtype)
        a = np.asarray(self.arrays[name])
        t = torch.from_numpy(np.array(a, order="C")).reshape(a.shape)
        if a.dtype == bool:  # a mask or reset flags: bool whatever the format
            return t.to(device=device)
        target = d.torch
        if real or not np.iscomplexobj(a):
            target = dtype(d.real).torch if d.is_complex else d.torch
        return t.to(device=device, dtype=target)

    def summary(self, values: int = 4) -> dict:
        """Shapes and the first few values of each array, for reports and failure messages."""
        out: dict[str, Any] = {"dtype": self.dtype, **dict(self.params)}
        for k, a in self.arrays.items():
            a = np.asarray(a)
            flat = a.ravel()[:values]
            out[k] = {
                "shape": list(a.shape),
                "values": [complex(v) if np.iscomplexobj(a) else float(v) for v in flat],
            }
            if np.iscomplexobj(a):
                out[k]["values"] = [repr(v) for v in out[k]["values"]]
        return out


Outputs = dict[str, np.ndarray]


class Terms(NamedTuple):
    """The growth g and the reference magnitude M of one output's bound (arrays broadcastable to
    the output, or to its reduced shape for a norm-wise bound)."""

    growth: Any
    magnitude: Any


@dataclass(frozen=True)
class Bound:
    """`c[method] · u · g · M + g · η`, per output (docs/error-model.md).

    `terms(case, method, d) -> {output: Terms(growth, magnitude)}` (a `(g, M)` pair per output) is
    computed from the float64 reference; `d` is the format under test (a `DType`). `c` is a
    documented constant per method, or one number for every method; `outputs` defaults to the
    spec's. `norms` says per output whether the bound is elementwise, per signal (`row`) or per
    matrix (`fro`), and `method_norms` overrides that for a method (an FFT's bound is norm-wise, a
    direct sum's not). `reasoning` is one line on where the bound comes from, shown by
    `ssmspec list --verbose`.
    """

    c: Mapping[str, float] | float
    terms: Callable[[Case, str, DType], Mapping[str, Terms]]
    outputs: tuple[str, ...] = ()
    reasoning: str = ""
    norms: Mapping[str, str] = field(default_factory=dict)
    method_norms: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def norms_for(self, method: str) -> Mapping[str, str]:
        """How each output's error is reduced for `method` (see `ssmspec.errors.norm_error`)."""
        return {**self.norms, **self.method_norms.get(method, {})}

    def terms_of(self, case: Case, method: str, d: DType | str | None = None
                 ) -> dict[str, Terms]:
        """output -> Terms(growth, magnitude) of `case` under `method` in format `d`."""
        got = self.terms(case, method, dtype(d or case.dtype))
        want = set(self.outputs or got)
        if set(got) != want:
            raise ValueError(f"Bound.terms: expected outputs {sorted(want)}, got {sorted(got)}")
        return {k: Terms(*v) for k, v in got.items()}

    def __call__(self, case: Case, method: str, d: DType | str | None = None) -> Outputs:
        d = dtype(d or case.dtype)
        return {k: higham_bound(self.c[method], d, t.growth, t.magnitude)
                for k, t in self.terms_of(case, method, d).items()}


@dataclass(frozen=True)
class TwoTier:
    """A primitive's two reference tiers: `mp(case, method)` (mpmath, exact to the tolerance of
    docs/error-model.md) for cases whose `work(case)` is at most `mp_max_work`, and
    `np(case, method)` (float64 or long double, certified against mpmath by
    tests/test_certification.py) beyond.

    `Spec(references=t)` wires it into a spec (its tiers and `reference_tier`); `work` defaults
    to the number of entries of all the case's arrays times the param `L` where there is one.
    """

    mp: Callable[[Case, str], Outputs]
    np: Callable[[Case, str], Outputs]
    mp_max_work: int
    work: Callable[[Case], int] | None = None

    def work_of(self, case: Case) -> int:
        if self.work is not None:
            return int(self.work(case))
        entries = sum(int(np.size(a)) for a in case.arrays.values())
        return entries * int(case.params.get("L", 1) or 1)

    def tier(self, case: Case) -> str:
        """'mp' while the case is small enough for mpmath, else 'np'."""
        return "mp" if self.work_of(case) <= self.mp_max_work else "np"

    @property
    def references(self) -> dict[str, Callable[[Case, str], Outputs]]:
        return {"mp": self.mp, "np": self.np}


def last_case(fn: Callable) -> Callable:
    """Memoise `fn(case, *rest)` for the most recent (case identity, rest): a spec's float64
    reference usually yields the output and the bound's magnitude and growth in one pass, which a
    measurement asks for three times in a row."""
    memo: list = [None, None, None]

    @functools.wraps(fn)
    def wrapped(case, *rest):
        if memo[0] is not case or memo[1] != rest:
            memo[:] = [case, rest, fn(case, *rest)]
        return memo[2]

    return wrapped


@dataclass(frozen=True)
class Sweep:
    """One fixed problem along an axis: `case(fmt, x)` for x in `points` (`heavy_points` under
    the nightly profile), e.g. the length L of a scan or kernel, or the step Δ of a
    discretisation. Drawn for `ssmspec report --plots`."""

    axis: str  # "L" or "Δ"
    points: tuple
    case: Callable[[str, Any], Case]
    heavy_points: tuple = ()
    description: str = ""


@dataclass(frozen=True)
class Feature:
    """An optional feature of a primitive that an implementation may lack (`--without NAME`).

    `used(arguments)` says whether a call uses it, from the canonical call's bound arguments
    (name -> value, defaults applied), e.g. `arguments["h0"] is not None`.
    """

    description: str
    used: Callable[[Mapping[str, Any]], bool]


def optional_argument(name: str, description: str) -> Feature:
    """The feature "argument `name` given" (not None), e.g. an initial state."""
    return Feature(description, lambda a: a.get(name) is not None)


def flag(name: str, value: Any, description: str) -> Feature:
    """The feature "argument `name` is `value`" (a bool flag or a mode string)."""
    return Feature(description, lambda a: isinstance(a.get(name), (bool, str))
                   and a.get(name) == value)


@dataclass(frozen=True)
class Spec:
    """One primitive: its contract, its references and its bound (frozen: declared once, in its
    spec module, and registered with `ssmspec.registry.register_spec`)."""

    name: str
    family: str
    summary: str
    signature: str
    methods: tuple[str, ...]
    dtypes: tuple[str, ...]
    outputs: tuple[str, ...]
    strategy: Callable[[str, str], Any]  # (dtype, method) -> SearchStrategy[Case]
    # tier -> reference, or a `TwoTier` (which sets `reference_tier` too)
    references: Mapping[str, Callable[[Case, str], Outputs]] | TwoTier
    bound: Bound
    call: Callable[[Callable, Case, str, str], tuple]  # (fn, case, method, device) -> tensors
    bench_case: Callable[[str], Case]  # dtype -> a benchmark-size case
    bench_shape: str = ""
    bench_by_method: bool = False  # bench_case takes (fmt, method)
    # a fixed problem along one axis (L, or Δ), for the precision/time plots (ssmspec.sweeps)
    sweep: Sweep | None = None
    # method -> the formats it covers, where narrower than `dtypes` (log-space scans: real only)
    method_dtypes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # optional features an implementation may declare it lacks (see ssmspec.scope)
    features: Mapping[str, Feature] = field(default_factory=dict)
    method_arg: str = "method"  # the canonical signature's name of the method argument
    # method -> the value its argument takes where the two differ (Mega's causal EMA: None)
    method_values: Mapping[str, Any] = field(default_factory=dict)

    def method_of(self, value: Any) -> Any:
        """The method a value of the method argument means (the value itself, usually)."""
        for m, v in self.method_values.items():
            if value is v or (isinstance(value, str) and value == v):
                return m
        return value
    # the size parameters its strategy draws through `ssmspec.strategies.size`, named as in
    # `signature`: what `--size NAME=V` may fix and the realistic regime draws
    sizes: tuple[str, ...] = ()
    # the realistic regime's budget: the product of the realistic sizes one input may draw, or
    # a mapping method -> budget (methods not named: the default), where a method costs more per
    # size
    realistic_work: int | Mapping[str, int] = DEFAULT_REALISTIC_WORK
    # case -> the tier that measures it ("mp", "np"); given by a `TwoTier` in `references`
    reference_tier: Callable[[Case], str] | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        bound = self.bound
        if not isinstance(bound.c, Mapping):
            bound = dataclasses.replace(bound, c={m: float(bound.c) for m in self.methods})
        if not bound.outputs:
            bound = dataclasses.replace(bound, outputs=tuple(self.outputs))
        object.__setattr__(self, "bound", bound)
        if isinstance(self.references, TwoTier):
            two = self.references
            object.__setattr__(self, "references", two.references)
            object.__setattr__(self, "reference_tier", self.reference_tier or two.tier)
        if self.reference_tier is None:
            raise TypeError(f"Spec {self.name!r}: expected reference_tier=, or references= a "
                            f"TwoTier")

    def work_of(self, method: str) -> int:
        """The realistic regime's work budget of `method`."""
        w = self.realistic_work
        return int(w.get(method, DEFAULT_REALISTIC_WORK)) if isinstance(w, Mapping) else int(w)

    def dtypes_of(self, method: str) -> tuple[str, ...]:
        """The formats `method` covers."""
        return tuple(self.method_dtypes.get(method, self.dtypes))

    def bench_for(self, fmt: str, method: str) -> Case:
        """The benchmark input of `method` in `fmt`: `bench_case(fmt, method)` where the spec says
        its benchmark depends on the method (`bench_by_method`: a bidirectional layer needs twice
        the kernel rows), else `bench_case(fmt)`."""
        return self.bench_case(fmt, method) if self.bench_by_method else self.bench_case(fmt)

    def reference(self, case: Case, method: str, tier: str | None = None) -> Outputs:
        return self.references[tier or self.reference_tier(case)](case, method)


@dataclass
class Implementation:
    """A callable that claims to implement a primitive (built-in, plug-in or mutant)."""

    primitive: str
    name: str
    fn: Callable | None
    methods: tuple[str, ...] | None = None  # None: all the spec's methods
    dtypes: tuple[str, ...] | None = None  # None: all the spec's formats
    devices: tuple[str, ...] = ("cpu", "cuda")
    source: str = "builtin"
    unavailable: str | None = None  # why it cannot run here (missing extra, no GPU, ...)
    xfail: tuple = ()  # ssmspec.plugins.XFail entries: expected failures, as data
    without: tuple[str, ...] = ()  # optional features of the spec it lacks (ssmspec.scope)

    def expected_failure(self, method: str, dtype: str) -> str | None:
        """The reason `method` in `dtype` is expected to fail, or None."""
        for x in self.xfail:
            if x.matches(self.primitive, method, dtype):
                return x.reason
        return None

    @property
    def available(self) -> bool:
        return self.fn is not None and self.unavailable is None


@dataclass
class Mutant:
    """A known-bad variant of an implementation, which the bound must catch.

    `witness(dtype)` returns a Case on which the bug shows; the self-tests assert err/bound > 1 on
    it, and also that hypothesis finds a failing case from the spec's own strategy. `primitive`
    is filled in by `register_spec` (as for `Law` and `BadInput`): a spec module does not repeat
    its primitive's name.
    """

    name: str
    fn: Callable
    method: str
    dtypes: tuple[str, ...]
    why: str
    witness: Callable[[str], Case]
    search: bool = True  # whether hypothesis alone is expected to find it from the strategy
    fix: str = ""  # how a kernel with this bug is put right (quoted by ssmspec.diagnose)
    primitive: str = ""


@dataclass
class LawContext:
    """What a law's check receives: the implementation under test and the means to draw inputs.

    Inside its declared scope: `draw` draws with the implementation's lacked features active
    (`ssmspec.scope.declared`), and `fn` raises `ssmspec.scope.OutOfScope` on a call with a
    method it does not implement or a feature it lacks (`scoped=False` lifts both, for mutants).
    """

    impl: Implementation
    dtype: str
    device: str
    draw: Callable  # hypothesis data.draw
    impl_of: Callable[[str], Callable]  # primitive -> fn of the same implementation family
    scoped: bool = True

    def __post_init__(self) -> None:
        from ssmspec import scope

        raw = self.draw
        without = self.impl.without if self.scoped else ()

        def draw(strategy, *args, **kwargs):
            with scope.declared(without):
                return raw(strategy, *args, **kwargs)

        self.draw = draw
        self._fn = self.impl.fn
        if self.scoped:
            from ssmspec import registry

            self._fn = scope.guarded(registry.spec(self.impl.primitive), self.impl)

    @property
    def fn(self) -> Callable:
        return self._fn

    def covered(self, allowed) -> list[str]:
        """The methods in `allowed` inside the declared scope, for a law that runs each in turn
        (all of them for an unscoped context); OutOfScope if none."""
        from ssmspec.scope import OutOfScope

        if not self.scoped or not self.impl.methods:
            return list(allowed)
        out = [m for m in allowed if m in self.impl.methods]
        if not out:
            raise OutOfScope(f"{self.impl.name}: covers none of the methods {list(allowed)}")
        return out

    def require(self, *methods: str) -> None:
        """OutOfScope unless every one of `methods` is inside the declared scope (a law about
        one method, or comparing two)."""
        from ssmspec.scope import OutOfScope

        if self.scoped and self.impl.methods:
            missing = [m for m in methods if m not in self.impl.methods]
            if missing:
                raise OutOfScope(f"{self.impl.name}: needs method(s) {missing} (declared: "
                                 f"{', '.join(self.impl.methods)})")

    def methods(self, allowed):
        """A strategy over the methods in `allowed` that the implementation covers (an outside
        kernel may implement only some of a primitive's methods); OutOfScope if none."""
        from hypothesis import strategies as st

        from ssmspec.scope import OutOfScope

        covered = [m for m in allowed if not self.impl.methods or m in self.impl.methods]
        if not covered:
            raise OutOfScope(f"{self.impl.name}: covers none of the methods {list(allowed)}")
        return st.sampled_from(covered)


@dataclass
class Law:
    """A mathematical law an implementation must obey; `check` raises AssertionError if not."""

    name: str
    statement: str
    check: Callable[[LawContext], None]
    dtypes: tuple[str, ...]
    primitive: str = ""


@dataclass
class BadInput:
    """A call with bad input that must raise `error` with `argument` named in the message. A spec
    module gives them as rows `(name, argument, error, call)` to `register_spec`."""

    name: str
    argument: str
    error: type[Exception]
    call: Callable[[Callable], Any]
    primitive: str = ""
