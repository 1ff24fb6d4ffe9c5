"""Argument normalization shared by the functional forms and the modules."""

from __future__ import annotations

from collections.abc import Sequence

IntPair = int | tuple[int, int]


def pair(value: int | Sequence[int], name: str) -> tuple[int, int]:
    """Turn ``int | (int, int)`` into ``(int, int)``, naming ``name`` in the error."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value, value
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        first, second = value
        if all(isinstance(v, int) and not isinstance(v, bool) for v in (first, second)):
            return first, second
    raise TypeError(f"{name} must be an int or a tuple of two ints, got {name}={value!r}")


def check_positive(name: str, value: tuple[int, int], error: type[Exception] = RuntimeError) -> None:
    if min(value) <= 0:
        raise error(f"non-positive {name} is not supported, got {name}={value}")


def check_non_negative(
    name: str, value: tuple[int, int], error: type[Exception] = RuntimeError
) -> None:
    if min(value) < 0:
        raise error(f"negative {name} is not supported, got {name}={value}")
