"""Which layer library a model is built from.

Every factory takes ``layers``, a namespace with ``LazyConv2d``, ``LazyLinear``,
``LazyBatchNorm1d``, ``LazyBatchNorm2d``, ``ReLU``, ``MaxPool2d``, ``AvgPool2d``,
``AdaptiveAvgPool2d``, ``Flatten`` and ``Dropout``. The default is :mod:`refimpl`;
passing ``torch.nn`` builds the same architecture from PyTorch's layers, the twin the
tests compare against.
"""

from __future__ import annotations

from types import ModuleType

import refimpl

Layers = ModuleType
DEFAULT: Layers = refimpl
