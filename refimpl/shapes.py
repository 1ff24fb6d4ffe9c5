"""Output-size arithmetic for convolution and pooling, in pure Python.

Nothing here imports torch: these are the formulas a reader can check with pencil
and paper. The tests compare every function with the shapes real tensors take.

Two padding conventions meet in this module:

* **PyTorch's** ``padding=p`` adds ``p`` rows on *each* side (top and bottom), so
  the total padding is ``2 * p``. Functions below take per-side padding, either one
  int (the same on both sides) or a ``(before, after)`` pair.
* **D2L's** formulas use ``p_h``, the *total* padding (top + bottom), see
  [`d2l_output_size`][refimpl.shapes.d2l_output_size].
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "adaptive_bins",
    "conv2d_output_shape",
    "conv_output_size",
    "d2l_output_size",
    "effective_kernel_size",
    "pool2d_output_shape",
    "pool_output_size",
    "same_padding",
]

PaddingPair = tuple[int, int]


def _check_positive(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive int, got {name}={value!r}")


def _check_non_negative(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {name}={value!r}")


def effective_kernel_size(kernel_size: int, dilation: int = 1) -> int:
    """Span of a dilated kernel: ``dilation * (kernel_size - 1) + 1``.

    >>> effective_kernel_size(3, dilation=2)
    5
    """
    _check_positive("kernel_size", kernel_size)
    _check_positive("dilation", dilation)
    return dilation * (kernel_size - 1) + 1


def same_padding(kernel_size: int, dilation: int = 1) -> PaddingPair:
    """Per-side padding ``(before, after)`` that ``padding='same'`` uses (stride 1).

    The total ``dilation * (kernel_size - 1)`` is split evenly; when it is odd, the
    extra row or column goes *after* (bottom/right), as PyTorch does.

    >>> same_padding(3)
    (1, 1)
    >>> same_padding(4)
    (1, 2)
    """
    total = effective_kernel_size(kernel_size, dilation) - 1
    return total // 2, total - total // 2


def _per_side(padding: int | Sequence[int], name: str = "padding") -> PaddingPair:
    if isinstance(padding, int) and not isinstance(padding, bool):
        _check_non_negative(name, padding)
        return padding, padding
    if isinstance(padding, Sequence) and not isinstance(padding, str) and len(padding) == 2:
        before, after = padding
        _check_non_negative(name, before)
        _check_non_negative(name, after)
        return int(before), int(after)
    raise TypeError(f"{name} must be an int or a (before, after) pair, got {padding!r}")


def conv_output_size(
    in_size: int,
    kernel_size: int,
    stride: int = 1,
    padding: int | Sequence[int] | str = 0,
    dilation: int = 1,
) -> int:
    """Output length of a convolution along one spatial dimension (PyTorch's rule).

    ``out = floor((in + pad_before + pad_after - dilation * (kernel_size - 1) - 1) / stride) + 1``

    ``padding`` is per side: an int (both sides), a ``(before, after)`` pair, or the
    strings ``'valid'`` (no padding) and ``'same'`` (output as long as the input;
    stride must be 1).

    Raises:
        ValueError: a non-positive size, kernel, stride or dilation, negative padding,
            ``'same'`` with ``stride > 1``, an unknown padding string, or a kernel
            that does not fit in the padded input.

    >>> conv_output_size(5, 3)             # no padding: n - k + 1
    3
    >>> conv_output_size(5, 3, padding=1)  # one row on each side keeps the size
    5
    >>> conv_output_size(7, 3, stride=2, padding=1)
    4
    >>> conv_output_size(10, 4, padding="same")
    10
    """
    _check_positive("in_size", in_size)
    span = effective_kernel_size(kernel_size, dilation)
    _check_positive("stride", stride)
    if isinstance(padding, str):
        if padding == "valid":
            padding = 0
        elif padding == "same":
            if stride != 1:
                raise ValueError(
                    f"padding='same' is not supported for strided convolutions, got stride={stride}"
                )
            padding = same_padding(kernel_size, dilation)
        else:
            raise ValueError(
                f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}"
            )
    before, after = _per_side(padding)
    padded = in_size + before + after
    if span > padded:
        raise ValueError(
            f"kernel_size={kernel_size} with dilation={dilation} spans {span}, "
            f"more than the padded input size {padded}"
        )
    return (padded - span) // stride + 1


def d2l_output_size(in_size: int, kernel_size: int, total_padding: int = 0, stride: int = 1) -> int:
    """Output length in D2L's convention, where ``total_padding`` is ``p_h`` (top + bottom).

    ``out = floor((n - k + p + s) / s)``. With ``total_padding = 2 * padding`` it
    equals [`conv_output_size`][refimpl.shapes.conv_output_size] without dilation.

    >>> d2l_output_size(8, 3, total_padding=2, stride=2)
    4
    >>> conv_output_size(8, 3, stride=2, padding=1)
    4
    """
    _check_positive("in_size", in_size)
    _check_positive("kernel_size", kernel_size)
    _check_non_negative("total_padding", total_padding)
    _check_positive("stride", stride)
    if kernel_size > in_size + total_padding:
        raise ValueError(
            f"kernel_size={kernel_size} is larger than the padded input size "
            f"{in_size + total_padding}"
        )
    return (in_size - kernel_size + total_padding + stride) // stride


def pool_output_size(
    in_size: int,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Output length of max/average pooling along one dimension (PyTorch's exact rule).

    Like convolution, but ``ceil_mode=True`` rounds the division up, and a last
    window that would *start* in the right-hand padding (or past it) is dropped.
    ``stride`` defaults to ``kernel_size``; ``padding`` (per side) may be at most
    ``kernel_size // 2`` (PyTorch checks the undilated kernel).

    >>> pool_output_size(5, 2)                  # floor(3 / 2) + 1
    2
    >>> pool_output_size(5, 2, ceil_mode=True)  # a third, partial window
    3
    >>> pool_output_size(5, 2, padding=1, ceil_mode=True)  # a 4th would start in the padding
    3
    """
    _check_positive("in_size", in_size)
    span = effective_kernel_size(kernel_size, dilation)
    stride = kernel_size if stride is None else stride
    _check_positive("stride", stride)
    _check_non_negative("padding", padding)
    if padding > kernel_size // 2:
        raise ValueError(
            f"pad should be at most half of kernel size, got padding={padding} "
            f"and kernel_size={kernel_size}"
        )
    numerator = in_size + 2 * padding - span
    if numerator < 0:
        raise ValueError(
            f"kernel_size={kernel_size} with dilation={dilation} spans {span}, "
            f"more than the padded input size {in_size + 2 * padding}"
        )
    out = (numerator + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= in_size + padding:
        out -= 1
    return out


def _pair(value: int | Sequence[int], name: str) -> tuple[int, int]:
    if isinstance(value, int) and not isinstance(value, bool):
        return value, value
    if (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        return value[0], value[1]
    raise TypeError(f"{name} must be an int or a pair of ints, got {name}={value!r}")


def conv2d_output_shape(
    input_size: Sequence[int],
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] | str = 0,
    dilation: int | Sequence[int] = 1,
) -> tuple[int, int]:
    """``(H_out, W_out)`` of a 2-D convolution over an input of size ``(H, W)``.

    Arguments take an int or an ``(h, w)`` pair, as ``torch.nn.Conv2d`` does;
    ``padding`` may also be ``'same'`` or ``'valid'``.

    >>> conv2d_output_shape((224, 224), 11, stride=4, padding=1)
    (54, 54)
    """
    h, w = _pair(input_size, "input_size")
    kh, kw = _pair(kernel_size, "kernel_size")
    sh, sw = _pair(stride, "stride")
    dh, dw = _pair(dilation, "dilation")
    if isinstance(padding, str):
        ph: int | str = padding
        pw: int | str = padding
    else:
        ph, pw = _pair(padding, "padding")
    return (
        conv_output_size(h, kh, sh, ph, dh),
        conv_output_size(w, kw, sw, pw, dw),
    )


def pool2d_output_shape(
    input_size: Sequence[int],
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    ceil_mode: bool = False,
) -> tuple[int, int]:
    """``(H_out, W_out)`` of 2-D max or average pooling over an input of size ``(H, W)``.

    >>> pool2d_output_shape((5, 5), 2, ceil_mode=True)
    (3, 3)
    """
    h, w = _pair(input_size, "input_size")
    kh, kw = _pair(kernel_size, "kernel_size")
    sh, sw = (kh, kw) if stride is None else _pair(stride, "stride")
    ph, pw = _pair(padding, "padding")
    dh, dw = _pair(dilation, "dilation")
    return (
        pool_output_size(h, kh, sh, ph, dh, ceil_mode),
        pool_output_size(w, kw, sw, pw, dw, ceil_mode),
    )


def adaptive_bins(in_size: int, out_size: int) -> list[tuple[int, int]]:
    """Half-open input ranges ``[start, end)`` that adaptive pooling reduces per output.

    Output ``i`` covers ``[floor(i * in / out), ceil((i + 1) * in / out))``. When
    ``in_size`` is not a multiple of ``out_size`` neighbouring bins overlap and may
    differ in length, which a single (kernel, stride) pair reproduces only in special cases.

    >>> adaptive_bins(4, 2)
    [(0, 2), (2, 4)]
    >>> adaptive_bins(5, 3)
    [(0, 2), (1, 4), (3, 5)]
    """
    _check_positive("in_size", in_size)
    _check_positive("out_size", out_size)
    return [
        ((i * in_size) // out_size, -(-((i + 1) * in_size) // out_size)) for i in range(out_size)
    ]
