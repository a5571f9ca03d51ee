"""Argument checks shared by the implementations (docs/bad-input.md).

Messages name the argument, what was expected and what was received.
"""

from __future__ import annotations

import torch

LOW_PRECISION = (torch.float16, torch.bfloat16)


def tensor(name: str, x, min_ndim: int = 0) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
    if not (x.is_floating_point() or x.is_complex()):
        raise TypeError(f"{name}: expected a floating or complex dtype, got {x.dtype}")
    if x.ndim < min_ndim:
        raise ValueError(
            f"{name}: expected at least {min_ndim} dimension(s), got shape {tuple(x.shape)}"
        )
    return x


def real_tensor(name: str, x) -> torch.Tensor:
    """A tensor of a real floating dtype (TypeError for complex or integer)."""
    tensor(name, x)
    if x.is_complex():
        raise TypeError(f"{name}: expected a real floating dtype, got {x.dtype}")
    return x


def beside(name: str, x, ref_name: str, ref: torch.Tensor, expected: tuple[int, ...] | None = None,
           what: str = "") -> torch.Tensor:
    """A tensor with `ref`'s dtype and device (never promoted to it), of shape `expected` when
    given."""
    tensor(name, x)
    same_dtype(name, x, ref_name, ref)
    same_device(name, x, ref_name, ref)
    if expected is not None:
        shape(name, x, expected, what)
    return x


def like(name: str, x, ref_name: str, ref: torch.Tensor) -> torch.Tensor:
    """A tensor with `ref`'s dtype, device and shape."""
    return beside(name, x, ref_name, ref, ref.shape, f"(that of {ref_name})")


def real_of(name: str, x, ref_name: str, ref: torch.Tensor, expected: tuple[int, ...],
            what: str = "") -> torch.Tensor:
    """A tensor of `ref`'s real dtype (a complex ref's real part's), on its device, of shape
    `expected` (a step Δ or log Δ beside complex parameters, say)."""
    tensor(name, x)
    rdt = real_dtype(ref.dtype)
    if x.is_complex() or x.dtype != rdt:
        raise TypeError(f"{name}: expected dtype {rdt} (the real dtype of {ref_name}), "
                        f"got {x.dtype}")
    same_device(name, x, ref_name, ref)
    shape(name, x, expected, what)
    return x


def same_dtype(name: str, x: torch.Tensor, ref_name: str, ref: torch.Tensor) -> None:
    if x.dtype != ref.dtype:
        raise TypeError(
            f"{name}: expected dtype {ref.dtype} (that of {ref_name}), got {x.dtype}; "
            "cast it explicitly, ssmspec never promotes silently"
        )


def same_device(name: str, x: torch.Tensor, ref_name: str, ref: torch.Tensor) -> None:
    if x.device != ref.device:
        raise ValueError(
            f"{name}: expected device {ref.device} (that of {ref_name}), got {x.device}"
        )


def shape(name: str, x: torch.Tensor, expected: tuple[int, ...], what: str = "") -> None:
    if tuple(x.shape) != tuple(expected):
        raise ValueError(
            f"{name}: expected shape {tuple(expected)}{' ' + what if what else ''}, "
            f"got {tuple(x.shape)}"
        )


def real_dtype(dtype: torch.dtype) -> torch.dtype:
    return dtype.to_real() if dtype.is_complex else dtype


def work_dtype(dtype: torch.dtype) -> torch.dtype:
    """fp16/bf16 are computed in fp32 and rounded once at the end (as Mamba's kernels do)."""
    return torch.float32 if dtype in LOW_PRECISION else dtype


def step(name: str, dt, like: torch.Tensor, shapes: dict[str, tuple[int, ...]]) -> torch.Tensor:
    """Δ as a tensor of `like`'s real dtype and device, checked positive and of an allowed shape.

    `shapes` maps a description ("scalar", "per channel", ...) to an accepted shape. A Python
    number is a scalar. NaN passes (it propagates); Δ ≤ 0 is a ValueError.
    """
    rdt = real_dtype(like.dtype)
    if isinstance(dt, (int, float)) and not isinstance(dt, bool):
        dt = torch.tensor(float(dt), dtype=rdt, device=like.device)
    elif not isinstance(dt, torch.Tensor):
        raise TypeError(f"{name}: expected a float or a torch.Tensor, got {type(dt).__name__}")
    if dt.is_complex() or not dt.is_floating_point():
        raise TypeError(f"{name}: expected a real floating dtype ({rdt}), got {dt.dtype}")
    if dt.dtype != rdt:
        raise TypeError(
            f"{name}: expected dtype {rdt} (the real dtype of the state), got {dt.dtype}"
        )
    same_device(name, dt, "the state", like)
    if tuple(dt.shape) not in set(shapes.values()):
        allowed = ", ".join(f"{k} {v}" for k, v in shapes.items())
        raise ValueError(f"{name}: expected shape {allowed}; got {tuple(dt.shape)}")
    if bool((dt <= 0).any()):
        raise ValueError(f"{name}: expected Δ > 0, got min {dt.min().item()}")
    return dt


def positive_int(name: str, value) -> int:
    """A size or length: a Python int (not a bool) >= 1; TypeError for another type."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name}: expected {name} >= 1, got {value}")
    return value


def flag(name: str, value) -> bool:
    """A Python bool (TypeError for anything else, 1 and 0 included)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name}: expected a bool, got {type(value).__name__}")
    return value


def method(name: str, value, allowed) -> str:
    if value not in allowed:
        raise ValueError(f"{name}: expected one of {sorted(allowed)}, got {value!r}")
    return value
