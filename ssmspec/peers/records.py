"""A peer function as data: which library, which function, which primitive, through which
adapter, in which declared scope (`ssmspec.scope`), on which devices."""

from __future__ import annotations

from dataclasses import dataclass

from ssmspec.spec import Implementation


@dataclass(frozen=True)
class Peer:
    """One public function of a peer library, checked as an implementation of `primitive`.

    `function` and `adapter` are `pkg.module:function`; `methods` and `without` are its declared
    scope (the spec's methods it implements, the optional features it lacks); `dtypes` the
    formats it takes (None: all the spec's); `devices` where it runs (a CUDA/Triton kernel:
    ("cuda",)); `unavailable` why it cannot be checked elsewhere, where more can be said than
    "needs cuda" (what was tried, and what stopped it), shown by `list --peers` and peers.md."""

    library: str
    function: str
    primitive: str
    adapter: str
    methods: tuple[str, ...]
    without: tuple[str, ...] = ()
    dtypes: tuple[str, ...] | None = None
    devices: tuple[str, ...] = ("cpu", "cuda")
    unavailable: str = ""

    @property
    def name(self) -> str:
        return self.function.replace(":", ".")

    def implementation(self) -> Implementation:
        """The Implementation ssmspec checks (imports the peer: ImportError if absent)."""
        from ssmspec.plugins import outside

        return outside(self.primitive, self.function, adapter=self.adapter, methods=self.methods,
                       dtypes=self.dtypes, devices=self.devices, without=self.without)
