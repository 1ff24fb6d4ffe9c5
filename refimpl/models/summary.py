"""A layer table for any model: output shape, parameters and multiply-accumulates per child."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["LayerRow", "Summary", "layer_summary", "layer_macs"]

CONV_TYPES: tuple[type[nn.Module], ...]
LINEAR_TYPES: tuple[type[nn.Module], ...]


def _layer_types() -> tuple[tuple[type[nn.Module], ...], tuple[type[nn.Module], ...]]:
    import refimpl

    return (refimpl.Conv2d, nn.Conv2d), (refimpl.Linear, nn.Linear)


CONV_TYPES, LINEAR_TYPES = _layer_types()


def layer_macs(module: nn.Module, output: Tensor) -> int:
    """Multiply-accumulates one call of a leaf ``module`` made to produce ``output``.

    A convolution does ``C_in / groups * kH * kW`` per output element, a dense layer
    ``in_features`` per output element (of any shape: ConvNeXt's dense layers run on
    ``(N, H, W, C)`` tensors). Everything else (norms, pooling, activations, layer
    scale, stochastic depth, residual sums) counts 0: cheap next to these, and
    conventionally left out of MAC counts. This is the convention of torchvision's
    published operation counts (the ``_ops`` of its weights, "GFLOPS" in its tables):
    they equal torch's ``FlopCounterMode`` count (2 FLOPs per multiply-accumulate of
    convolutions and matrix products, nothing else) halved. MobileNetV2 gives
    0.301 G and ConvNeXt-T 4.456 G at 224x224 both there and here.
    """
    if isinstance(module, CONV_TYPES):
        kh, kw = module.kernel_size  # type: ignore[misc]
        per_output = module.in_channels // module.groups * kh * kw  # type: ignore[operator]
        return output.numel() * per_output
    if isinstance(module, LINEAR_TYPES):
        return output.numel() * int(module.in_features)  # type: ignore[arg-type]
    return 0


@dataclass(frozen=True)
class LayerRow:
    """One row of a [`Summary`][refimpl.models.Summary]: a module at the chosen depth."""

    name: str
    kind: str
    output_shape: tuple[int, ...]
    params: int
    macs: int


@dataclass(frozen=True)
class Summary:
    """Rows that together cover the whole model, and their totals."""

    input_shape: tuple[int, ...]
    rows: tuple[LayerRow, ...]
    weight_layers: int  # convolutions and dense layers: the depth D2L counts

    @property
    def total_params(self) -> int:
        return sum(row.params for row in self.rows)

    @property
    def total_macs(self) -> int:
        return sum(row.macs for row in self.rows)

    def to_markdown(self) -> str:
        """The table as Markdown (for pages that print it), totals in the last row."""
        lines = [
            "| layer | type | output shape | parameters | MACs |",
            "| --- | --- | --- | ---: | ---: |",
        ]
        for row in self.rows:
            shape = " x ".join(map(str, row.output_shape))
            lines.append(f"| {row.name} | {row.kind} | {shape} | {row.params:,} | {row.macs:,} |")
        lines.append(f"| **total** | | | **{self.total_params:,}** | **{self.total_macs:,}** |")
        return "\n".join(lines)

    def __str__(self) -> str:
        width = max(len(f"{r.name} ({r.kind})") for r in self.rows)
        lines = [f"{'layer':<{width}}  {'output shape':<20}{'parameters':>14}{'MACs':>16}"]
        for row in self.rows:
            label = f"{row.name} ({row.kind})"
            shape = str(tuple(row.output_shape))
            lines.append(f"{label:<{width}}  {shape:<20}{row.params:>14,}{row.macs:>16,}")
        lines.append(f"{'total':<{width}}  {'':<20}{self.total_params:>14,}{self.total_macs:>16,}")
        return "\n".join(lines)


def _rows_at_depth(model: nn.Module, depth: int) -> list[tuple[str, nn.Module]]:
    """Modules that partition ``model``: children, expanded ``depth - 1`` more levels."""
    rows: list[tuple[str, nn.Module]] = []

    def visit(prefix: str, module: nn.Module, level: int) -> None:
        children = list(module.named_children())
        if level == depth or not children:
            rows.append((prefix, module))
            return
        for name, child in children:
            visit(f"{prefix}.{name}" if prefix else name, child, level + 1)

    for name, child in model.named_children():
        visit(name, child, 1)
    return rows


def layer_summary(
    model: nn.Module, input_shape: tuple[int, ...], depth: int = 1, **tensor_options: Any
) -> Summary:
    """Run ``model`` once on zeros of ``input_shape`` and tabulate it, one row per child.

    ``depth=1`` lists the top-level children (the stages D2L's ``layer_summary``
    prints); ``depth=2`` lists their children instead, and so on. Lazy modules are
    materialized by the call. The model runs in eval mode without gradients, and every
    module's training flag is restored afterwards.

    Example:
        >>> from refimpl.models import layer_summary, nin
        >>> net = nin()
        >>> table = layer_summary(net, (1, 1, 224, 224))
        >>> table.rows[0].output_shape, table.rows[-1].output_shape
        ((1, 96, 54, 54), (1, 10))
        >>> table.total_params == sum(p.numel() for p in net.parameters())
        True
    """
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got depth={depth}")
    shapes: dict[str, tuple[int, ...]] = {}
    macs: dict[nn.Module, int] = {}
    handles = []
    for module in model.modules():
        if not list(module.children()):

            def count(mod: nn.Module, _: Any, out: Tensor) -> None:
                macs[mod] = macs.get(mod, 0) + layer_macs(mod, out)

            handles.append(module.register_forward_hook(count))
    rows = _rows_at_depth(model, depth)
    for name, module in rows:

        def record(_: nn.Module, __: Any, out: Tensor, name: str = name) -> None:
            shapes[name] = tuple(out.shape)

        handles.append(module.register_forward_hook(record))
    modes = {module: module.training for module in model.modules()}
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(input_shape, **tensor_options))
    finally:
        for module, training in modes.items():  # each module's own flag, even if shared
            module.training = training
        for handle in handles:
            handle.remove()
    table = tuple(
        LayerRow(
            name=name,
            kind=type(module).__name__,
            output_shape=shapes[name],
            params=sum(p.numel() for p in module.parameters()),
            macs=sum(macs.get(m, 0) for m in module.modules()),
        )
        for name, module in rows
    )
    weight_layers = sum(isinstance(m, CONV_TYPES + LINEAR_TYPES) for m in model.modules())
    return Summary(tuple(input_shape), table, weight_layers)
