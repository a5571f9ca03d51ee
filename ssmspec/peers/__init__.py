"""Adapters for outside implementations that install from PyPI (the `perf` extra), so that
`ssmspec check` and the properties run on them under ssmspec's canonical signatures.

Each adapter is `adapter(fn) -> fn'`: it maps only the calling convention, never the numerics
(no casts to a wider format, no clean-up of results), so what ssmspec measures is the peer's own
arithmetic. What each maps is written beside it; `tox -e peers` runs them.

The registry: one module per library (`mamba_ssm`, `causal_conv1d`, …) lists its `Peer` records
(function, primitive, adapter, declared scope, devices); `known()` gives them all, `PINS` the
version of each library they were checked at, and `load(library)` makes a library importable
(`mamba-ssm` and `causal-conv1d` from their unpacked PyPI sdists on a CPU torch: `sdist`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from contextvars import ContextVar

import torch

from ssmspec.peers.records import Peer

# set while `ssmspec peers` times a peer: an adapter that does extra work only to read out an
# output the peer does not return (mambapy's last state) skips it, so that the time is the peer's
TIMING: ContextVar[bool] = ContextVar("ssmspec_peers_timing", default=False)

# library -> (version, sha256 of its sdist where it is imported from the sdist, else None)
PINS: dict[str, tuple[str, str | None]] = {
    "mamba-ssm": ("2.3.2.post1",
                  "104cc47e9101e5401a675fa2b784f2952b9b037f3b1dd83b5ac544394e95d028"),
    "causal-conv1d": ("1.7.0",
                      "3202758494eaa7b597ce1c282dfa188889506bfcb92cad3c407d26736bfcd32b"),
    "flash-linear-attention": ("0.6.0", None),
    "fla-core": ("0.6.0", None),
    "mambapy": ("1.2.0", None),
    "accelerated-scan": ("0.3.1", None),
    "s5-pytorch": ("0.2.1", None),
    "einops": ("0.8.2", None),
}
# library -> (top-level package, the compiled extensions it imports at load)
_SDIST_PACKAGES = {"mamba-ssm": ("mamba_ssm", ("selective_scan_cuda",)),
                   "causal-conv1d": ("causal_conv1d", ("causal_conv1d_cuda",))}
_MODULES = ("mamba_ssm", "causal_conv1d", "fla", "mambapy", "accelerated", "s5_pytorch")


def known() -> tuple[Peer, ...]:
    """Every registered peer function, library by library."""
    return tuple(p for m in _MODULES
                 for p in importlib.import_module(f"ssmspec.peers.{m}").PEERS)


def by_function(function: str) -> Peer | None:
    """The registered peer whose function is `function` (`pkg.mod:fn`), if any."""
    return next((p for p in known() if p.function == function), None)


def describe(primitives=None, device: str = "cpu") -> str:
    """`ssmspec list --peers`: each registered peer function, its primitive, adapter, declared
    scope, and whether it can be checked here (else why not)."""
    lines = []
    for p in known():
        if primitives and p.primitive not in primitives:
            continue
        why = availability(p, device, fetch=False)
        version = PINS.get(p.library, ("?",))[0]
        lines += [f"{p.function}  [{p.library} {version}] -> {p.primitive}",
                  f"  adapter:  {p.adapter}",
                  f"  scope:    methods {', '.join(p.methods)}"
                  + (f"; without {', '.join(p.without)}" if p.without else "")
                  + (f"; formats {', '.join(p.dtypes)}" if p.dtypes else ""),
                  f"  here:     {'importable' if why is None else why}"]
    return "\n".join(lines)


def load(library: str, fetch: bool = True) -> str:
    """Make `library` importable here; returns where it comes from. ImportError/OSError if it
    cannot be (not installed, no network for the sdist, or not fetched yet and not `fetch`)."""
    if library in _SDIST_PACKAGES:
        from ssmspec.peers import sdist

        package, extensions = _SDIST_PACKAGES[library]
        version, sha256 = PINS[library]
        return sdist.load(package, library, version, sha256, extensions, fetch)
    return "installed"


def availability(peer: Peer, device: str = "cpu", fetch: bool = True) -> str | None:
    """None if `peer` can be checked on `device` here, else why not (a sdist not in the cache
    yet is fetched only if `fetch`)."""
    if not any(device.startswith(d) for d in peer.devices):
        return f"needs {' or '.join(peer.devices)}" + (f": {peer.unavailable}"
                                                        if peer.unavailable else "")
    try:
        load(peer.library, fetch)
        peer.implementation()
    except Exception as exc:  # noqa: BLE001 - any failure to import is the reason reported
        return f"not importable here: {type(exc).__name__}: {exc}"
    return None


def _fold_h0(a: torch.Tensor, b: torch.Tensor, h0, reverse: bool) -> torch.Tensor:
    """A scan without an initial state runs from h0 when its first input absorbs a·h0:
    h_first = a·h0 + b (one extra rounding, which the bound's first step admits)."""
    if h0 is None:
        return b
    b = b.clone()
    i = -1 if reverse else 0
    b[..., i] = b[..., i] + a[..., i] * h0
    return b


def _accelerated(fn: Callable, own_reverse: bool) -> Callable:
    def linear_scan(a, b, h0=None, reverse=False, method="associative"):
        shape, L = a.shape, a.shape[-1]
        b = _fold_h0(a, b, h0, reverse)
        a, b = a.reshape(1, -1, L), b.reshape(1, -1, L)
        flip = reverse and not own_reverse  # reversing time is exact
        if flip:
            a, b = a.flip(-1), b.flip(-1)
        more = {"reverse": reverse} if own_reverse else {}
        out = fn(a.contiguous(), b.contiguous(), **more)
        return (out.flip(-1) if flip else out).reshape(shape)

    return linear_scan


def accelerated_scan(fn: Callable) -> Callable:
    """`accelerated_scan.ref.scan(gates, tokens, reverse=False)`, gates/tokens (B, C, T)
    contiguous, x_t = a_t x_{t−1} + b_t (reverse: x_t = a_t x_{t+1} + b_t), no initial state:
    any leading dims are flattened to C, h0 is folded into the first token."""
    return _accelerated(fn, own_reverse=True)


def accelerated_scan_forward(fn: Callable) -> Callable:
    """accelerated-scan's kernels `scalar.scan(forget, inputs)` (Triton, real),
    `complex.scan` (Triton, complex forget) and `warp.scan(gates, tokens)` (CUDA C++): the
    layout of `accelerated_scan`, forward only; reverse runs on time flipped (exact)."""
    return _accelerated(fn, own_reverse=False)


def s5_associative_scan(fn: Callable) -> Callable:
    """`s5.jax_compat.associative_scan(operator, (a, b), axis)` with S5's `binary_operator`
    (A_j·A_i, A_j·Bu_i + Bu_j): the scan runs along `axis` (the last), reverse by its own
    flag; h0 is folded into the first element as S5's `apply_ssm` does with its `state`."""
    from s5.s5_model import binary_operator

    def linear_scan(a, b, h0=None, reverse=False, method="associative"):
        b = _fold_h0(a, b, h0, reverse)
        _, h = fn(binary_operator, (a, b), axis=a.ndim - 1, reverse=reverse)
        return h

    return linear_scan
