"""Block diagrams of the chapter's blocks, read from the module objects themselves.

Each figure walks the block's own layers: kernel sizes, strides, groups and output
channels come from the modules, and the channel count is carried from layer to layer
starting at ``in_channels``, so a diagram cannot disagree with the block it shows.
Nothing runs: the layers may still be lazy. Paths split at the top, run side by side
and meet at a sum (residual blocks) or a channel concatenation (Inception, DenseNet);
a block without a shortcut is one path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from torch import nn as torch_nn

from .. import modules
from ..models import (
    ConvNeXtBlock,
    DenseBlock,
    Inception,
    InvertedResidual,
    Residual,
    ResNeXtBlock,
    torch_twin,
)
from .svg import FAINT, INK, MUTED, PRIMARY, figure_id, line, rect, svg, text

COL_W, BOX_W, BOX_H, GAP, MARGIN = 176, 160, 24, 16, 12
GROUP_H = 12  # the strip of group cells under a grouped convolution
MAX_GROUP_CELLS = 16


@dataclass(frozen=True)
class Step:
    """One box on a path: what the layer does, and how many groups a convolution has."""

    label: str
    groups: int = 1

    @property
    def height(self) -> float:
        return BOX_H + (GROUP_H + 16 if self.groups > 1 else 0)


@dataclass(frozen=True)
class Section:
    """Paths that split from one input and meet again; ``[]`` is the identity path."""

    paths: list[list[Step]]
    merge: str  # "add", "concat", or "none" for a single path
    merged_channels: int
    after: list[Step]


def _pair(value: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    return int(value[0]), int(value[1])


def layer_steps(layers: Sequence[torch_nn.Module], in_channels: int) -> tuple[list[Step], int]:
    """A box per layer (a ReLU joins the box before it), and the channels that leave."""
    steps: list[Step] = []
    channels = in_channels
    for layer in layers:
        if isinstance(layer, (modules.Conv2d, torch_nn.Conv2d)):
            kh, kw = _pair(layer.kernel_size)
            label = f"{kh}x{kw} conv {channels}→{layer.out_channels}"
            if _pair(layer.stride) != (1, 1):
                label += f", stride {_pair(layer.stride)[0]}"
            steps.append(Step(label, layer.groups))
            channels = layer.out_channels
        elif isinstance(layer, (modules.BatchNorm2d, torch_nn.BatchNorm2d)):
            steps.append(Step("batch norm"))
        elif isinstance(layer, (modules.MaxPool2d, modules.AvgPool2d)):
            kind = "max" if isinstance(layer, modules.MaxPool2d) else "avg"
            k, s = _pair(layer.kernel_size), _pair(layer.stride)
            steps.append(Step(f"{k[0]}x{k[1]} {kind} pool, stride {s[0]}"))
        elif isinstance(layer, (modules.ReLU, torch_nn.ReLU)) and steps:
            steps[-1] = Step(steps[-1].label + ", ReLU", steps[-1].groups)
        elif isinstance(layer, (modules.ReLU6, torch_nn.ReLU6)) and steps:
            steps[-1] = Step(steps[-1].label + ", ReLU6", steps[-1].groups)
        elif isinstance(layer, (modules.GELU, torch_nn.GELU)) and steps:
            steps[-1] = Step(steps[-1].label + ", GELU", steps[-1].groups)
        elif isinstance(layer, (modules.LayerNorm, torch_nn.LayerNorm)):
            steps.append(Step("layer norm over channels"))
        elif isinstance(layer, (modules.Linear, torch_nn.Linear)):
            steps.append(Step(f"dense {channels}→{layer.out_features}, per pixel"))
            channels = layer.out_features
        elif isinstance(layer, (modules.LayerScale, torch_twin.LayerScale)):
            steps.append(Step("× layer scale, per channel"))
        elif isinstance(layer, (modules.StochasticDepth, torch_twin.StochasticDepth)):
            steps.append(Step(f"stochastic depth, p={layer.p:.3g}"))
        else:
            raise TypeError(f"no box for {type(layer).__name__}")
    return steps, channels


def _arrow(x: float, y1: float, y2: float) -> list[str]:
    """A downward line ending in an arrowhead at ``y2``."""
    head = f'<path d="M{x - 4:g},{y2 - 6:g} L{x:g},{y2:g} L{x + 4:g},{y2 - 6:g}" fill="none" '
    head += f'stroke="{MUTED}" stroke-width="1.5"/>'
    return [line(x, y1, x, y2, stroke=MUTED, stroke_width="1.5"), head]


def _box(cx: float, y: float, step: Step) -> list[str]:
    x = cx - BOX_W / 2
    parts = [
        rect(x, y, BOX_W, step.height, rx="5", fill=FAINT, stroke=PRIMARY, data_role="layer"),
        text(cx, y + 16, step.label, size=11),
    ]
    if step.groups > 1:
        cells = min(step.groups, MAX_GROUP_CELLS)
        cell_w = (BOX_W - 12) / cells
        for g in range(cells):
            parts.append(
                rect(
                    x + 6 + g * cell_w + 1,
                    y + BOX_H,
                    cell_w - 2,
                    GROUP_H,
                    fill=PRIMARY,
                    fill_opacity="0.35",
                    data_role="group",
                )
            )
        parts.append(text(cx, y + BOX_H + GROUP_H + 12, f"{step.groups} groups", size=10))
    return parts


def _merge_node(cx: float, y: float, section: Section) -> tuple[list[str], float]:
    """The sum (a circled +) or the concatenation box; returns its parts and height."""
    channels = section.merged_channels
    if section.merge == "add":
        circle = f'<circle cx="{cx:g}" cy="{y + 11:g}" r="11" fill="none" stroke="{INK}" '
        circle += f'data-role="merge" data-channels="{channels}"/>'
        return [circle, text(cx, y + 16, "+", size=15)], 22
    box = rect(
        cx - BOX_W / 2,
        y,
        BOX_W,
        BOX_H,
        rx="12",
        fill="none",
        stroke=INK,
        data_role="merge",
        data_channels=channels,
    )
    return [box, text(cx, y + 16, f"concatenate: {channels} channels", size=11)], BOX_H


def block_figure(title: str, in_channels: int, sections: list[Section], description: str) -> str:
    """Lay out ``sections`` top to bottom, each as paths side by side that meet again."""
    columns = max(len(s.paths) for s in sections)
    width = columns * COL_W + 2 * MARGIN
    cx = width / 2
    body = [text(cx, MARGIN + 12, f"input: {in_channels} channels", size=12)]
    y = MARGIN + 18.0
    for section in sections:
        n = len(section.paths)
        xs = [cx + (i - (n - 1) / 2) * COL_W for i in range(n)]
        split = y + GAP / 2
        body.append(line(cx, y, cx, split, stroke=MUTED, stroke_width="1.5"))
        body.append(line(xs[0], split, xs[-1], split, stroke=MUTED, stroke_width="1.5"))
        bottoms = []
        for x, path in zip(xs, section.paths):
            top = split
            for step in path:
                body += _arrow(x, top, top + GAP)
                body += _box(x, top + GAP, step)
                top += GAP + step.height
            bottoms.append(top)
        join = max(bottoms) + GAP
        for x, path, bottom in zip(xs, section.paths, bottoms):
            body.append(line(x, bottom, x, join, stroke=MUTED, stroke_width="1.5"))
            if not path:
                label = text(x + 6, (split + join) / 2, "identity", size=10, anchor="start")
                body.append(label.replace("<text ", '<text font-style="italic" ', 1))
        body.append(line(xs[0], join, xs[-1], join, stroke=MUTED, stroke_width="1.5"))
        if section.merge == "none":
            y = join
        else:
            body += _arrow(cx, join, join + GAP)
            parts, height = _merge_node(cx, join + GAP, section)
            body += parts
            y = join + GAP + height
        for step in section.after:
            body += _arrow(cx, y, y + GAP)
            body += _box(cx, y + GAP, step)
            y += GAP + step.height
    out = sections[-1].merged_channels
    body += _arrow(cx, y, y + GAP)
    body.append(text(cx, y + GAP + 14, f"output: {out} channels", size=12))
    ident = figure_id("block", title, in_channels, description)
    return svg(body, width, y + GAP + 24, title, description, ident)


def _describe(sections: list[Section]) -> str:
    parts = []
    for section in sections:
        paths = [
            " then ".join(s.label for s in path) if path else "the identity"
            for path in section.paths
        ]
        if section.merge == "none":
            parts.append(f"one path ({paths[0]}) to {section.merged_channels} channels")
            continue
        verb = "added" if section.merge == "add" else "concatenated"
        parts.append(
            f"{len(paths)} paths ({'; '.join(paths)}) {verb} into "
            f"{section.merged_channels} channels"
        )
    return ". ".join(parts) + "."


def inception_figure(block: Inception, in_channels: int) -> str:
    """The Inception block's four paths and their concatenation.

    Example:
        >>> from refimpl.figures import inception_figure
        >>> from refimpl.models import Inception
        >>> svg = inception_figure(Inception(64, (96, 128), (16, 32), 32), 192)
        >>> svg.count('data-role="layer"'), 'data-channels="256"' in svg
        (7, True)
    """
    relu = block.relu
    paths, outs = [], []
    for layers in (
        [block.b1_1, relu],
        [block.b2_1, relu, block.b2_2, relu],
        [block.b3_1, relu, block.b3_2, relu],
        [block.b4_1, block.b4_2, relu],
    ):
        steps, out = layer_steps(layers, in_channels)
        paths.append(steps)
        outs.append(out)
    sections = [Section(paths, "concat", sum(outs), [])]
    return block_figure("Inception block", in_channels, sections, _describe(sections))


def residual_figure(block: Residual, in_channels: int) -> str:
    """The residual block: two 3x3 conv-BN layers added to the input or its 1x1 projection.

    Example:
        >>> from refimpl.figures import residual_figure
        >>> from refimpl.models import Residual
        >>> svg = residual_figure(Residual(6, use_1x1conv=True, strides=2), 3)
        >>> "identity" in svg, svg.count('data-role="layer"')
        (False, 6)
    """
    main, out = layer_steps(
        [block.conv1, block.bn1, block.relu, block.conv2, block.bn2], in_channels
    )
    shortcut, _ = layer_steps([block.conv3] if block.conv3 is not None else [], in_channels)
    sections = [Section([main, shortcut], "add", out, [Step("ReLU")])]
    kind = "with a 1x1 convolution shortcut" if shortcut else "with an identity shortcut"
    return block_figure(f"Residual block {kind}", in_channels, sections, _describe(sections))


def resnext_figure(block: ResNeXtBlock, in_channels: int) -> str:
    """The ResNeXt bottleneck: 1x1 down, grouped 3x3 (one cell per group), 1x1 up, plus.

    Example:
        >>> from refimpl.figures import resnext_figure
        >>> from refimpl.models import ResNeXtBlock
        >>> svg = resnext_figure(ResNeXtBlock(32, cardinality=4, bot_mul=1), 32)
        >>> svg.count('data-role="group"')
        4
    """
    relu = block.relu
    main, out = layer_steps(
        [block.conv1, block.bn1, relu, block.conv2, block.bn2, relu, block.conv3, block.bn3],
        in_channels,
    )
    shortcut_layers = [block.conv4, block.bn4] if block.conv4 is not None else []
    shortcut, _ = layer_steps([m for m in shortcut_layers if m is not None], in_channels)
    sections = [Section([main, shortcut], "add", out, [Step("ReLU")])]
    groups = block.conv2.groups
    title = f"ResNeXt block, {groups} groups in its 3x3 convolution"
    return block_figure(title, in_channels, sections, _describe(sections))


def dense_block_figure(block: DenseBlock, in_channels: int) -> str:
    """A dense block: each conv block's output concatenated onto everything before it.

    Example:
        >>> from refimpl.figures import dense_block_figure
        >>> from refimpl.models import DenseBlock
        >>> svg = dense_block_figure(DenseBlock(2, 10), 3)
        >>> 'data-channels="13"' in svg, 'data-channels="23"' in svg
        (True, True)
    """
    sections = []
    channels = in_channels
    for conv_block in block.net:
        assert isinstance(conv_block, torch_nn.Sequential)  # built by models.conv_block
        steps, grown = layer_steps(list(conv_block), channels)
        channels += grown
        sections.append(Section([steps, []], "concat", channels, []))
    title = f"Dense block of {len(sections)} conv blocks"
    return block_figure(title, in_channels, sections, _describe(sections))


def inverted_residual_figure(block: InvertedResidual, in_channels: int) -> str:
    """MobileNetV2's block: 1x1 expansion, 3x3 depthwise (one cell per group, up to 16),
    1x1 projection without activation; added to the input when the block has a shortcut.

    Example:
        >>> from refimpl.figures import inverted_residual_figure
        >>> from refimpl.models import InvertedResidual
        >>> svg = inverted_residual_figure(InvertedResidual(24, 24, 1, expand_ratio=6), 24)
        >>> "identity" in svg, "144 groups" in svg, svg.count('data-role="layer"')
        (True, True, 6)
    """
    layers = [*(block.expand or []), *block.depthwise, *block.project]
    main, out = layer_steps(layers, in_channels)
    if block.use_shortcut:
        sections = [Section([main, []], "add", out, [])]
        kind = "identity shortcut"
    else:
        sections = [Section([main], "none", out, [])]
        kind = "no shortcut"
    title = f"Inverted residual block, expansion {block.expand_ratio:g}, {kind}"
    return block_figure(title, in_channels, sections, _describe(sections))


def convnext_block_figure(block: ConvNeXtBlock, in_channels: int) -> str:
    """ConvNeXt's block: 7x7 depthwise convolution, layer norm, dense 4x expansion with
    GELU, dense projection, layer scale and stochastic depth, added to the input.

    Example:
        >>> from refimpl.figures import convnext_block_figure
        >>> from refimpl.models import ConvNeXtBlock
        >>> svg = convnext_block_figure(ConvNeXtBlock(96), 96)
        >>> "dense 96→384, per pixel, GELU" in svg, 'data-channels="96"' in svg
        (True, True)
    """
    layers = [
        block.depthwise,
        block.norm,
        block.expand,
        block.gelu,
        block.project,
        block.layer_scale,
        block.stochastic_depth,
    ]
    main, out = layer_steps(layers, in_channels)
    sections = [Section([main, []], "add", out, [])]
    kh, kw = _pair(block.depthwise.kernel_size)
    title = f"ConvNeXt block, {kh}x{kw} depthwise convolution"
    return block_figure(title, in_channels, sections, _describe(sections))
