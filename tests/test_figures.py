"""Figures: valid, accessible, deterministic SVG whose drawn cells equal the computed shapes."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import pytest
import torch

import refimpl
from refimpl import figures, models, shapes

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
