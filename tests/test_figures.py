"""Figures: valid, accessible, deterministic SVG whose drawn cells equal the computed shapes."""

from __future__ import annotations

import itertools
import time
import xml.etree.ElementTree as ET

import pytest
import torch

import refimpl
from refimpl import figures, models, shapes
from refimpl.figures.blocks import layer_steps

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    root = ET.fromstring(markup)
    assert root.tag == f"{SVG}svg"
    return root


def by_role(root: ET.Element, role: str) -> list[ET.Element]:
    return [e for e in root.iter() if e.get("data-role") == role]


def assert_accessible(root: ET.Element) -> None:
    ident = root.get("id")
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == f"{ident}-title {ident}-desc"
    title = root.find(f"{SVG}title")
    assert title is not None and title.get("id") == f"{ident}-title" and title.text


CONV_CASES = [
    case
    for case in itertools.product(
        [4, (5, 7)], [1, 3, (2, 3)], [1, 2], [0, 1, "same", "valid"], [1, 2]
    )
    if not (case[3] == "same" and case[2] != 1)  # 'same' needs stride 1
]


@pytest.mark.parametrize("size, kernel, stride, padding, dilation", CONV_CASES)
def test_conv_figure_cells_match_shapes(size, kernel, stride, padding, dilation):
    h, w = (size, size) if isinstance(size, int) else size
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    try:
        expected = shapes.conv2d_output_shape((h, w), (kh, kw), stride, padding, dilation)
    except ValueError:
        with pytest.raises(ValueError):
            figures.conv_figure(size, kernel, stride, padding, dilation)
        return
    root = parse(figures.conv_figure(size, kernel, stride, padding, dilation))
    assert_accessible(root)
    conv = refimpl.Conv2d(1, 1, (kh, kw), stride, padding, dilation)
    real = tuple(conv(torch.zeros(1, 1, h, w)).shape[-2:])
    assert real == expected
    assert len(by_role(root, "input")) == h * w
    assert len(by_role(root, "output")) == expected[0] * expected[1]
    frames = [g for g in root.iter(f"{SVG}g") if g.get("class") == "frame"]
    assert len(frames) == expected[0] * expected[1]  # one step per output position
    assert all(len(by_role(frame, "tap")) == kh * kw for frame in frames)
    padded = len(by_role(root, "input")) + len(by_role(root, "padding"))
    (top, bottom), (left, right) = (
        (shapes.same_padding(kh, dilation), shapes.same_padding(kw, dilation))
        if padding == "same"
        else ((0, 0), (0, 0))
        if padding == "valid"
        else ((padding, padding), (padding, padding))
    )
    assert padded == (h + top + bottom) * (w + left + right)


def test_conv_figure_taps_stay_inside_the_padded_input():
    root = parse(figures.conv_figure(6, 3, stride=2, padding=1, dilation=2))
    cells = by_role(root, "input") + by_role(root, "padding")
    right = max(float(c.get("x")) + float(c.get("width")) for c in cells)
    bottom = max(float(c.get("y")) + float(c.get("height")) for c in cells)
    for tap in by_role(root, "tap"):
        assert float(tap.get("x")) + float(tap.get("width")) <= right
        assert float(tap.get("y")) + float(tap.get("height")) <= bottom


@pytest.mark.parametrize("n, out", [(4, 2), (5, 3), (7, 3), (3, 5), (10, 4)])
def test_adaptive_bins_figure_draws_refimpl_bins(n, out):
    root = parse(figures.adaptive_bins_figure(n, out))
    assert_accessible(root)
    drawn = [(int(b.get("data-start")), int(b.get("data-end"))) for b in by_role(root, "bin")]
    assert drawn == shapes.adaptive_bins(n, out)
    assert len(by_role(root, "input")) == n


@pytest.mark.parametrize(
    "kind, expected", [("batch", lambda n, c, g: c), ("layer", lambda n, c, g: n),
                       ("instance", lambda n, c, g: n * c), ("group", lambda n, c, g: n * g)],
)  # fmt: skip
def test_norm_figure_statistics(kind, expected):
    n, c, hw, groups = 3, 4, 5, 2
    root = parse(figures.norm_axes_figure(kind, n, c, hw, groups))
    assert_accessible(root)
    cells = by_role(root, "cell")
    assert len(cells) == n * c * hw
    assert len({cell.get("data-statistic") for cell in cells}) == expected(n, c, groups)


def test_layer_norm2d_statistics_are_per_pixel():
    labels = figures.statistic_groups("layer2d", n=2, c=3, hw=4)
    assert int(labels.max()) + 1 == 2 * 4  # one per example and position
    assert all(len(set(labels[e, :, p].tolist())) == 1 for e in range(2) for p in range(4))
    assert "Channel-wise layer normalization" in figures.norm_axes_figure("layer2d", 2, 3, 4)


def test_norm_statistic_groups_follow_the_axes():
    labels = figures.statistic_groups("batch", n=2, c=3, hw=4)
    # batch norm: one statistic per channel, shared by every example and position
    for ch in range(3):
        assert len(set(labels[:, ch, :].flatten().tolist())) == 1
    assert len(set(labels[0, :, 0].tolist())) == 3


@pytest.mark.parametrize("cin, cout, groups", [(4, 4, 1), (4, 6, 2), (6, 6, 6), (8, 4, 4)])
def test_groups_figure_connections(cin, cout, groups):
    root = parse(figures.groups_figure(cin, cout, groups))
    assert_accessible(root)
    assert len(by_role(root, "connection")) == cout * (cin // groups)
    links = figures.connections(cin, cout, groups)
    for i, o in itertools.product(range(cin), range(cout)):
        assert bool(links[i, o]) == (i // (cin // groups) == o // (cout // groups))


def test_architecture_figure_has_a_box_per_stage():
    table = models.layer_summary(models.resnet18(), (1, 1, 96, 96))
    markup = figures.architecture_figure(table, "ResNet-18")
    root = parse(markup)
    assert_accessible(root)
    assert len(by_role(root, "stage")) == len(table.rows)
    for row in table.rows:
        assert " x ".join(map(str, row.output_shape[1:])) in markup


def test_architecture_figure_names_what_each_stage_holds():
    model = models.resnet18()
    table = models.layer_summary(model, (1, 1, 96, 96))
    labels = texts(parse(figures.architecture_figure(table, "ResNet-18", model)))
    assert "0: 7x7 conv 64, BN, ReLU, 3x3 max pool" in labels
    assert "b2: residual block x2" in labels
    assert "b3: residual block, 1x1 shortcut, residual block" in labels
    assert not any("Sequential" in label for label in labels)
    nin = models.nin()
    table = models.layer_summary(nin, (1, 1, 224, 224))
    labels = texts(parse(figures.architecture_figure(table, "NiN", nin)))
    stage_labels = [label for label in labels if label.startswith("0: ")]
    assert stage_labels and stage_labels[0].endswith("…") and len(stage_labels[0]) <= 3 + 52


def test_line_plot():
    root = parse(figures.line_plot({"a": [0.0, 2.0, 1.0], "b": [1.0, 1.5, 3.0]}, "x", "y", "T"))
    assert_accessible(root)
    assert len(list(root.iter(f"{SVG}polyline"))) == 2


def test_figures_are_deterministic_and_follow_their_parameters():
    calls = [
        lambda: figures.conv_figure(5, 3, 1, 1),
        lambda: figures.adaptive_bins_figure(5, 3),
        lambda: figures.norm_axes_figure("group"),
        lambda: figures.groups_figure(4, 4, 2),
    ]
    for call in calls:
        assert call() == call()
    assert figures.conv_figure(5, 3, 1, 1) != figures.conv_figure(5, 3, 2, 1)
    assert figures.adaptive_bins_figure(5, 3) != figures.adaptive_bins_figure(6, 3)
    assert figures.groups_figure(4, 4, 2) != figures.groups_figure(4, 4, 4)


def test_figure_wrapper_has_a_caption():
    markup = figures.figure(figures.adaptive_bins_figure(5, 3), "Bins of 5 -> 3 <overlap>")
    root = ET.fromstring(markup)
    assert root.tag == "figure"
    caption = root.find("figcaption")
    assert caption is not None and caption.text == "Bins of 5 -> 3 <overlap>"


# --- source listings ----------------------------------------------------------------------


def test_source_listing_is_the_package_source_without_docstring():
    from refimpl import functional as F
    from refimpl.figures import source_lines, source_listing

    lines = source_lines(F.conv2d)
    assert lines[:2] == ["@has_fast_kernel", "def conv2d("]
    assert '"""' not in "\n".join(lines)  # the docstring is left out, the code is all there
    assert any("filters @ columns" in line for line in lines)
    text = source_listing(F.conv2d, {"filters @ columns": "the sums"})
    number = 1 + next(i for i, line in enumerate(lines) if "filters @ columns" in line)
    assert f'hl_lines="{number}"' in text.splitlines()[0]
    assert f"| {number} | `out = filters @ columns` | the sums |" in text


@pytest.mark.parametrize("code", ["no such code", "out = out"], ids=["none", "several"])
def test_source_listing_refuses_a_note_that_does_not_match_one_line(code):
    from refimpl import functional as F
    from refimpl.figures import source_listing

    with pytest.raises(ValueError, match="matches"):
        source_listing(F.conv2d, {code: "a note"})


# ---------------------------------------------------------------------------------------
# Block diagrams, read from the modules


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def merged_channels(root: ET.Element) -> list[int]:
    return [int(str(e.get("data-channels"))) for e in by_role(root, "merge")]


BLOCK_CASES = {
    "inception": (lambda: models.Inception(64, (96, 128), (16, 32), 32), 192),
    "inception-b4": (lambda: models.Inception(112, (144, 288), (32, 64), 64), 512),
    "residual-identity": (lambda: models.Residual(64), 64),
    "residual-1x1": (lambda: models.Residual(128, use_1x1conv=True, strides=2), 64),
    "resnext-1x1": (lambda: models.ResNeXtBlock(64, 8, 0.5, use_1x1conv=True, strides=2), 32),
    "resnext-identity": (lambda: models.ResNeXtBlock(32, 4, 1), 32),
    "dense": (lambda: models.DenseBlock(3, 12), 16),
    "inverted": (lambda: models.InvertedResidual(24, 24, 1, expand_ratio=6), 24),
    "inverted-t1": (lambda: models.InvertedResidual(16, 16, 1, expand_ratio=1), 16),
    "convnext": (lambda: models.ConvNeXtBlock(32, stochastic_depth_prob=0.1), 32),
}
DRAW = {
    "inception": figures.inception_figure,
    "residual": figures.residual_figure,
    "resnext": figures.resnext_figure,
    "dense": figures.dense_block_figure,
    "inverted": figures.inverted_residual_figure,
    "convnext": figures.convnext_block_figure,
}


@pytest.mark.parametrize("case", BLOCK_CASES)
def test_block_figure_channels_are_the_modules(case):
    """The drawn output width is what a forward pass returns; the drawing runs nothing."""
    make, in_channels = BLOCK_CASES[case]
    block = make()
    draw = DRAW[case.split("-")[0]]
    markup = draw(block, in_channels)
    root = parse(markup)
    assert_accessible(root)
    assert root.find(f"{SVG}desc") is not None
    assert markup == draw(make(), in_channels), "not deterministic"
    out = block(torch.zeros(1, in_channels, 8, 8))
    assert merged_channels(root)[-1] == out.shape[1]
    assert texts(root)[0] == f"input: {in_channels} channels"
    assert texts(root)[-1] == f"output: {out.shape[1]} channels"
    # the layers are drawn with their real kernel sizes and widths, now that they are built
    convs = [m for m in block.modules() if isinstance(m, refimpl.Conv2d)]
    labels = " | ".join(texts(root))
    for conv in convs:
        kh, kw = conv.kernel_size
        assert f"{kh}x{kw} conv {conv.in_channels}→{conv.out_channels}" in labels


def test_inception_figure_has_four_paths_concatenated():
    block = models.Inception(64, (96, 128), (16, 32), 32)
    root = parse(figures.inception_figure(block, 192))
    labels = texts(root)
    assert len(by_role(root, "layer")) == 7  # 1 + 2 + 2 + 2 boxes
    assert "3x3 max pool, stride 1" in labels
    assert merged_channels(root) == [64 + 128 + 32 + 32]
    assert "concatenate: 256 channels" in labels


def test_residual_figure_shortcut_is_identity_or_1x1():
    plain = parse(figures.residual_figure(models.Residual(64), 64))
    projected = parse(figures.residual_figure(models.Residual(128, True, 2), 64))
    assert "identity" in texts(plain) and "identity" not in texts(projected)
    assert "1x1 conv 64→128, stride 2" in texts(projected)
    assert len(by_role(projected, "layer")) == len(by_role(plain, "layer")) + 1
    assert "+" in texts(plain) and "+" in texts(projected)


@pytest.mark.parametrize("cardinality", [1, 4, 8, 16])
def test_resnext_figure_draws_one_cell_per_group(cardinality):
    block = models.ResNeXtBlock(64, cardinality, 1)
    root = parse(figures.resnext_figure(block, 64))
    assert len(by_role(root, "group")) == (cardinality if cardinality > 1 else 0)
    assert block.conv2.groups == cardinality


def test_dense_block_figure_grows_by_the_growth_rate():
    root = parse(figures.dense_block_figure(models.DenseBlock(3, 12), 16))
    assert merged_channels(root) == [28, 40, 52]
    assert texts(root).count("identity") == 3


def test_block_figures_draw_in_milliseconds():
    blocks = [
        (make(), channels, DRAW[case.split("-")[0]])
        for case, (make, channels) in BLOCK_CASES.items()
    ]
    start = time.perf_counter()
    for block, channels, draw in blocks:
        draw(block, channels)
    assert (time.perf_counter() - start) / len(blocks) < 0.05


def test_block_figure_refuses_a_layer_it_cannot_draw():
    with pytest.raises(TypeError, match="no box for Dropout"):
        layer_steps([refimpl.Dropout(0.5)], 2)


def test_inverted_residual_figure_without_shortcut_is_one_path():
    block = models.InvertedResidual(16, 24, stride=2, expand_ratio=6)
    root = parse(figures.inverted_residual_figure(block, 16))
    labels = texts(root)
    assert by_role(root, "merge") == [] and "identity" not in labels
    assert labels[-1] == "output: 24 channels"
    assert "3x3 conv 96→96, stride 2" in labels and "96 groups" in labels
    assert labels.count("batch norm, ReLU6") == 2 and "batch norm" in labels  # linear last


def test_convnext_block_figure_reads_the_block():
    block = models.ConvNeXtBlock(96, stochastic_depth_prob=0.05)
    labels = texts(parse(figures.convnext_block_figure(block, 96)))
    expected = ["7x7 conv 96→96", "layer norm over channels", "dense 96→384, per pixel, GELU",
                "dense 384→96, per pixel", "× layer scale, per channel",
                "stochastic depth, p=0.05"]  # fmt: skip
    assert [label for label in labels if label in expected] == expected


def test_conv_figure_says_when_there_is_no_padding():
    assert "input 5x5, no padding" in texts(parse(figures.conv_figure(5, 3)))
    assert "input 5x5, padded to 7x7" in texts(parse(figures.conv_figure(5, 3, padding=1)))


def test_repeated_paint_moves_into_one_class_rule_per_combination():
    from refimpl.figures.svg import shared_paint

    cells = '<rect x="0" fill="red" stroke="blue"/>' * 3
    framed = '<g class="frame"><rect x="1" class="tap" fill="red" stroke="blue"/></g>'
    lone = '<line x1="0" stroke="green"/>'
    body, rules = shared_paint(cells + framed + lone, "fig")
    assert rules == "#fig .p0 { fill: red; stroke: blue; }"
    assert body.count('class="p0"') == 3 and 'class="p0 tap"' in body
    assert 'fill="red"' not in body and '<line x1="0" stroke="green"/>' in body  # used once
    root = parse(figures.conv_figure(5, 3, stride=2, padding=1))
    styled = [e for e in root.iter() if e.tag.endswith("rect") and e.get("fill") is None]
    assert styled and all(e.get("class") for e in styled)  # every unpainted cell has a class
