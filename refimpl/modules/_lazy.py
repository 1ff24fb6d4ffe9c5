"""The one step every lazy module shares: giving a placeholder its real shape."""

from __future__ import annotations

from torch.nn.parameter import UninitializedTensorMixin  # type: ignore[attr-defined]


def materialize(placeholder: object, shape: tuple[int, ...]) -> None:
    """Allocate an uninitialized parameter or buffer with ``shape`` (in place)."""
    if isinstance(placeholder, UninitializedTensorMixin):
        placeholder.materialize(shape)
