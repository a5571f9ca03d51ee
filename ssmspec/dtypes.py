"""The floating-point formats ssmspec measures, with the constants its error model needs.

Each format is named by a short string (`fp64`, `fp32`, `fp16`, `bf16`, `c64`, `c128`) so that
reports, the CLI and xfail data can name it without importing torch.

For a format with `p` significand bits (the implicit bit included) and minimum normal exponent
`emin`:

    u    = 2^-p              unit roundoff (round to nearest)
    ulp(x) = 2^(max(floor(log2|x|), emin) - p + 1)
    eta  = 2^(emin - p + 1)  the subnormal spacing: the absolute error floor of any result near 0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class DType:
    name: str
    torch: torch.dtype
    bits: int  # significand bits p, implicit bit included
    emin: int  # minimum normal exponent
    emax: int  # maximum exponent
    is_complex: bool
    real: str  # name of the real format of each component

    @property
    def u(self) -> float:
        """Unit roundoff 2^-p."""
        return 2.0**-self.bits

    @property
    def eta(self) -> float:
        """Spacing of the subnormals, 2^(emin - p + 1)."""
        return 2.0 ** (self.emin - self.bits + 1)

    @property
    def max(self) -> float:
        """Largest finite value."""
        return (2.0 - 2.0 ** (1 - self.bits)) * 2.0**self.emax

    @property
    def tiny(self) -> float:
        """Smallest positive normal value."""
        return 2.0**self.emin

    @property
    def numpy(self) -> type:
        """The numpy dtype the suite carries values of this format in (exactly)."""
        return np.complex128 if self.is_complex else np.float64

    def __str__(self) -> str:
        return self.name


DTYPES: dict[str, DType] = {
    d.name: d
    for d in (
        DType("fp64", torch.float64, 53, -1022, 1023, False, "fp64"),
        DType("fp32", torch.float32, 24, -126, 127, False, "fp32"),
        DType("fp16", torch.float16, 11, -14, 15, False, "fp16"),
        DType("bf16", torch.bfloat16, 8, -126, 127, False, "bf16"),
        DType("c64", torch.complex64, 24, -126, 127, True, "fp32"),
        DType("c128", torch.complex128, 53, -1022, 1023, True, "fp64"),
    )
}
REAL_DTYPES = ("fp64", "fp32", "fp16", "bf16")
COMPLEX_DTYPES = ("c64", "c128")
WIDE_DTYPES = ("fp64", "fp32")  # the real formats with room for a law's float64-derived slack
# a diagonal SSM's formats: complex parameters (S4D-Lin) and real ones (S4D-Real)
S4D_DTYPES = ("c128", "c64", "fp64", "fp32")


def dtype(name: str | DType | torch.dtype) -> DType:
    """Look a format up by name, by DType or by torch dtype; ValueError for anything else."""
    if isinstance(name, DType):
        return name
    if isinstance(name, torch.dtype):
        for d in DTYPES.values():
            if d.torch == name:
                return d
        raise ValueError(f"dtype: torch dtype {name} is not one ssmspec measures")
    if name not in DTYPES:
        raise ValueError(f"dtype: expected one of {sorted(DTYPES)}, got {name!r}")
    return DTYPES[name]


def real_of(d: DType | str) -> DType:
    """The real format of one component of `d`."""
    return DTYPES[dtype(d).real]


def complex_of(d: DType | str) -> DType:
    """The complex format whose components are `d` (only fp32 and fp64 have one)."""
    d = dtype(d)
    if d.is_complex:
        return d
    pairs = {"fp32": "c64", "fp64": "c128"}
    if d.name not in pairs:
        raise ValueError(f"dtype: {d.name} has no complex counterpart")
    return DTYPES[pairs[d.name]]


def round_to(x: np.ndarray | float | complex, d: DType | str) -> np.ndarray:
    """Round `x` to the nearest values of format `d`, returned in float64/complex128 exactly.

    Inputs for low-precision runs go through this so that the reference and the implementation see
    the same numbers and only the computation's error is measured.
    """
    d = dtype(d)
    a = np.asarray(x)
    if d.is_complex:
        t = torch.from_numpy(np.array(a, dtype=np.complex128, order="C")).to(d.torch)
        return t.to(torch.complex128).numpy().reshape(a.shape)
    if np.iscomplexobj(a):
        raise TypeError(f"round_to: complex values cannot be rounded to the real format {d.name}")
    t = torch.from_numpy(np.array(a, dtype=np.float64, order="C")).to(d.torch)
    return t.to(torch.float64).numpy().reshape(a.shape)


def ulp(x: np.ndarray, d: DType | str) -> np.ndarray:
    """The spacing of format `d` at |x| (the real format's, for complex x), as float64.

    Defined for every finite x, zero included (where it is the subnormal spacing eta).
    """
    r = real_of(d)
    a = np.abs(np.asarray(x, dtype=np.complex128 if np.iscomplexobj(x) else np.float64))
    with np.errstate(divide="ignore"):
        e = np.floor(np.log2(np.where(a > 0, a, 1.0)))
    e = np.where(a > 0, np.maximum(e, r.emin), r.emin)
    return np.exp2(e - r.bits + 1)


def describe() -> str:
    """One line per format: name, u, eta; for `ssmspec list`."""
    return "\n".join(
        f"{d.name:5s} u=2^-{d.bits} eta={d.eta:.3g} max={d.max:.4g}"
        + (" (complex)" if d.is_complex else "")
        for d in DTYPES.values()
    )

