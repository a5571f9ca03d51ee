"""Hypothesis strategies shared by the specs.

Every strategy returns float64/complex128 numpy values already rounded to the format under test
(`round_to`), so an implementation and its reference see the same numbers.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

from ssmspec import scope
from ssmspec.dtypes import dtype, real_of, round_to
from ssmspec.profiles import heavy  # registers the profiles at import, never inside a test
from ssmspec.spec import DEFAULT_REALISTIC_WORK


def log_uniform(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Floats whose log10 is uniform in [log10 lo, log10 hi] (Δ over many decades)."""
    return st.floats(np.log10(lo), np.log10(hi)).map(lambda e: float(10.0**e))


def batch_shapes(max_dims: int = 2, max_side: int = 3) -> st.SearchStrategy[tuple[int, ...]]:
    """Leading batch shapes: (), (h,), (b, h), ... with small sides."""
    return st.lists(st.integers(1, max_side), max_size=max_dims).map(tuple)


def representable(values, fmt) -> np.ndarray:
    """`values` rounded to `fmt` (its real part's format for real values of a complex run)."""
    a = np.asarray(values)
    d = dtype(fmt)
    return round_to(a, d if np.iscomplexobj(a) else real_of(d))


# Above this many entries an array is not drawn entry by entry (hypothesis' buffer would overrun at
# realistic sizes): `arrays` draws a pool of ARRAY_POOL elements and fills the array from it.
ARRAY_POOL = 64
ARRAY_DRAW_MAX = 256


def arrays(shape, elements: st.SearchStrategy) -> st.SearchStrategy[np.ndarray]:
    """A float64 or complex128 array of `shape` with elements from `elements`: each entry drawn,
    or, above ARRAY_DRAW_MAX entries, a pool of ARRAY_POOL drawn elements (so the strategy's special
    values still occur) spread over the array by a drawn seed."""
    n = int(np.prod(shape)) if len(shape) else 1
    if n <= ARRAY_DRAW_MAX:
        return st.lists(elements, min_size=n, max_size=n).map(
            lambda v: np.array(v).reshape(shape))
    pool = st.lists(elements, min_size=ARRAY_POOL, max_size=ARRAY_POOL)
    return st.builds(lambda v, s: np.random.default_rng(s).choice(np.array(v), size=shape),
                     pool, st.integers(0, 2**32 - 1))


def stable_reals(max_mag: float, min_mag: float = 1e-12) -> st.SearchStrategy[float]:
    """Real eigenvalues λ ≤ 0: exactly 0, tiny (~1e-12), log-uniform moderate and large."""
    return st.one_of(
        st.just(0.0),
        log_uniform(min_mag, max_mag).map(lambda x: -x),
    )


def stable_complex(max_mag: float, min_mag: float = 1e-12) -> st.SearchStrategy[complex]:
    """Complex eigenvalues with Re λ ≤ 0 and |Im λ| from tiny to large."""
    im = st.one_of(st.just(0.0), log_uniform(min_mag, max_mag), log_uniform(min_mag, max_mag).map(
        lambda x: -x))
    return st.builds(lambda r, i: complex(r, i), stable_reals(max_mag, min_mag), im)


def real_normals(scale: float = 1.0) -> st.SearchStrategy[float]:
    """Moderate reals of either sign (entries of B, C)."""
    return st.floats(-scale, scale, allow_nan=False, allow_infinity=False, allow_subnormal=False)


# Under the Triton interpreter (TRITON_INTERPRET=1: kernels run element by element in Python) the
# lengths stop here; the bounds are unchanged. 257 keeps the "long" draws (≥ 255) of the scans.
INTERPRET_LENGTH_CAP = 257


def boundary_lengths(limit: int) -> tuple[int, ...]:
    """{1, 2, 3, 2^k − 1, 2^k, 2^k + 1} up to `limit`: the lengths where tree scans, FFT sizes
    and chunkings change shape. Capped at INTERPRET_LENGTH_CAP under TRITON_INTERPRET=1."""
    if os.environ.get("TRITON_INTERPRET", "0") not in ("", "0"):
        limit = min(limit, INTERPRET_LENGTH_CAP)
    out = {1, 2, 3}
    k = 2
    while 2**k - 1 <= limit:
        out |= {n for n in (2**k - 1, 2**k, 2**k + 1) if n <= limit}
        k += 1
    return tuple(sorted(out))


def sequence_lengths(ci_limit: int, nightly_limit: int = 16384) -> st.SearchStrategy[int]:
    """Boundary lengths up to `ci_limit`, or `nightly_limit` under the nightly profile; the short
    ones (≤ 17) drawn half the time."""
    all_ = boundary_lengths(nightly_limit if heavy() else ci_limit)
    return st.one_of(st.sampled_from([n for n in all_ if n <= 17]), st.sampled_from(all_))


def feature(name: str, present: st.SearchStrategy, absent=None) -> st.SearchStrategy:
    """How a spec strategy draws the optional feature `name` (one of `Spec.features`):
    `present` (a strategy that may draw it), or `st.just(absent)` when the implementation under
    test is declared without it (`ssmspec.scope.declared`)."""
    return st.just(absent) if scope.lacks(name) else present


def in_scope(prefix: str, values) -> list:
    """The `values` whose feature `prefix + value` (e.g. `layout=step`) is not lacked."""
    return [v for v in values if not scope.lacks(f"{prefix}{v}")]


# --- shapes: the regime and the sizes a user fixes ------------------------------------------------

REGIMES = ("default", "realistic")

# The sizes public SSM kernels ship with (S4/S4D/Mamba/Mega configurations): sequence lengths to
# 2^16 (with odd neighbours, where FFT sizes and chunkings change shape), state sizes to 256,
# channels/heads to 1024, batches to 8.
REALISTIC_SIZES: dict[str, tuple[int, ...]] = {
    "L": (1024, 2048, 4095, 4096, 8192, 16384, 16385, 32768, 65536),
    "N": (16, 32, 64, 128, 256),
    "H": (64, 128, 256, 512, 1024),
    "D": (64, 128, 256, 512, 1024),
    "batch": (1, 2, 4, 8),
    # chunk sizes of chunked scans (Mamba-2's SSD ships 64–256): a tuning knob, not work
    "chunk": (64, 128, 256),
}
UNCOUNTED = {"chunk"}  # realistic kinds that do not count against the work budget
# Under the realistic regime the product of the realistic sizes one input draws stays below the
# spec's work budget (`Spec.realistic_work`), so one input costs seconds, not hours: a draw picks
# among the sizes that still fit (the smallest always does). Lengths are offered longest first, the
# other sizes smallest first, so the simplest realistic input is the longest sequence at the
# smallest widths — the axis along which errors grow.
# size names whose realistic values are another name's (a batch named `b` or `B`)
SIZE_KINDS = {"b": "batch", "B": "batch"}


@dataclass
class ShapeScope:
    """The shapes an input may take: sizes fixed by name, the regime the others come from, and the
    work budget of the realistic regime. `drawn` records every size name a strategy asked for
    (tests use it to prove a declared size is honoured)."""

    fixed: Mapping[str, int] = field(default_factory=dict)
    regime: str = "default"
    names: tuple[str, ...] | None = None  # the spec's size parameters (None: any name)
    work: int = DEFAULT_REALISTIC_WORK
    used: int = 1
    drawn: set = field(default_factory=set)
    this_case: set = field(default_factory=set)  # the names drawn for the input being drawn

    def charge(self, value: int) -> int:
        """Count a drawn size against the work budget; return it."""
        self.used *= max(int(value), 1)
        return value

    def fresh(self) -> ShapeScope:
        return ShapeScope(dict(self.fixed), self.regime, self.names, self.work, 1, self.drawn,
                          set())

    def reserve(self, name: str) -> int:
        """The least work the realistic sizes not yet drawn for this input will add: a size
        drawn early leaves room for the smallest shipping value of each later one."""
        out = 1
        for n in self.names or ():
            kind = SIZE_KINDS.get(n, n)
            if n != name and n not in self.this_case and n not in self.fixed \
                    and kind in REALISTIC_SIZES and kind not in UNCOUNTED:
                out *= min(REALISTIC_SIZES[kind])
        return out


_SCOPE: contextvars.ContextVar[ShapeScope | None] = contextvars.ContextVar("ssmspec_shapes",
                                                                           default=None)


@contextlib.contextmanager
def shape_scope(shapes: ShapeScope | None) -> Iterator[ShapeScope | None]:
    """Draw inputs under `shapes` (None: the strategies' own shapes)."""
    token = _SCOPE.set(shapes)
    try:
        yield shapes
    finally:
        _SCOPE.reset(token)


def size(name: str, default: st.SearchStrategy[int], kind: str | None = None
         ) -> st.SearchStrategy[int]:
    """The strategy of the size parameter `name` (named as in the primitive's signature): `default`
    unless the active shape scope fixes `name` or draws it from the realistic regime, where it
    takes the realistic sizes of `kind` (a key of REALISTIC_SIZES; default `name`: a batch named
    `b` has kind "batch", S5's state size P kind "N"). Call it where the size is drawn (inside a
    composite strategy), so the scope active at draw time decides."""
    shapes = _SCOPE.get()
    if shapes is None or (shapes.names is not None and name not in shapes.names):
        return default  # a size of a sub-strategy the primitive does not expose (diag_step's L)
    shapes.drawn.add(name)
    shapes.this_case.add(name)
    if name in shapes.fixed:
        return st.just(shapes.charge(int(shapes.fixed[name])))
    kind = kind or SIZE_KINDS.get(name, name)
    if shapes.regime == "realistic" and kind in REALISTIC_SIZES:
        options = REALISTIC_SIZES[kind]
        if kind in UNCOUNTED:
            return st.sampled_from(options)
        room = shapes.work // shapes.reserve(name)
        fits = [v for v in options if shapes.used * v <= room] or [min(options)]
        if kind == "L":  # the simplest draw (hypothesis' first) is the longest that fits
            fits = fits[::-1]
        return st.sampled_from(fits).map(shapes.charge)
    return default


def cases(spec, fmt: str, method: str, shapes: ShapeScope | None = None) -> st.SearchStrategy:
    """`spec`'s strategy of inputs in `fmt` for `method`, drawn under `shapes` (each input starts
    with a fresh work budget). Without a shape scope: the spec's strategy itself."""
    if shapes is None:
        return spec.strategy(fmt, method)

    inner = shapes.fresh()
    inner.names, inner.work = tuple(spec.sizes), spec.work_of(method)

    @st.composite
    def scoped(draw):
        with shape_scope(inner.fresh()):  # the spec's strategy is built and drawn in scope
            return draw(spec.strategy(fmt, method))

    return scoped()


def parse_sizes(texts, known: tuple[str, ...], primitive: str) -> dict[str, int]:
    """`["L=4096", "N=64"]` as {"L": 4096, "N": 64}, each name one of `known` (the primitive's size
    parameters) and each value a positive int; ValueError naming the bad entry otherwise."""
    out: dict[str, int] = {}
    for text in texts or ():
        name, sep, value = str(text).partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"--size: expected NAME=VALUE, got {text!r}")
        if name not in known:
            raise ValueError(f"--size {text}: {primitive} has no size {name!r}; its sizes are "
                             f"{', '.join(known) or 'none'}")
        try:
            n = int(value)
        except ValueError:
            raise ValueError(f"--size {text}: expected a positive int, got {value!r}") from None
        if n < 1:
            raise ValueError(f"--size {text}: expected a positive int, got {n}")
        out[name] = n
    return out


def session_shapes() -> ShapeScope | None:
    """The shape scope of a property run, from the environment: SSMSPEC_SIZES (`L=4096,N=64`:
    each applies to the primitives that have that size) and SSMSPEC_REGIME (default or
    realistic); the pytest plugin's --ssmspec-size and --ssmspec-regime set them. None when
    neither is set."""
    sizes = [x for x in os.environ.get("SSMSPEC_SIZES", "").split(",") if x.strip()]
    regime = os.environ.get("SSMSPEC_REGIME", "") or "default"
    if regime not in REGIMES:
        raise ValueError(f"SSMSPEC_REGIME: expected one of {REGIMES}, got {regime!r}")
    if not sizes and regime == "default":
        return None
    names = tuple(x.partition("=")[0].strip() for x in sizes)  # any name: each spec keeps its own
    return ShapeScope(fixed=parse_sizes(sizes, names, "SSMSPEC_SIZES"), regime=regime)
