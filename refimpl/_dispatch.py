"""The switch between the reference ops and the fast kernels of [`refimpl.fast`][].

An op of [`refimpl.functional`][] marked ``@has_fast_kernel`` runs its own body, the
reference, unless the fast kernels were switched on ([`refimpl.fast.kernels`][],
[`refimpl.fast.set_enabled`][], or ``REFIMPL_FAST_KERNELS=1`` in the environment
when refimpl is imported). Then the call goes to the kernel of the same name in
[`refimpl.fast`][], which takes the same arguments and is tested equal.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_enabled = os.environ.get("REFIMPL_FAST_KERNELS", "0").strip().lower() in ("1", "true", "yes")


def fast_kernels_enabled() -> bool:
    return _enabled


def set_fast_kernels(enabled: bool) -> bool:
    """Switch the fast kernels on or off everywhere; return the previous setting."""
    global _enabled
    previous, _enabled = _enabled, bool(enabled)
    return previous


def has_fast_kernel(reference: Callable[P, R]) -> Callable[P, R]:
    """Mark a reference op that [`refimpl.fast`][] has a kernel for (same name, same signature)."""
    name = reference.__name__

    @functools.wraps(reference)
    def op(*args: P.args, **kwargs: P.kwargs) -> R:
        if _enabled:
            fast: Callable[P, R] = getattr(importlib.import_module("refimpl.fast"), name)
            return fast(*args, **kwargs)
        return reference(*args, **kwargs)

    op.reference = reference  # type: ignore[attr-defined]
    return op
