import os

import pytest
import torch
from hypothesis import HealthCheck, settings

import refimpl

settings.register_profile(
    "default",
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.register_profile("thorough", deadline=None, max_examples=400)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _seed() -> None:
    """Every test starts from the same random state, so failures reproduce."""
    torch.manual_seed(0)


DTYPES = [pytest.param(torch.float32, id="f32"), pytest.param(torch.float64, id="f64")]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fast-kernels",
        action="store_true",
        help="run refimpl.functional's ops on refimpl.fast's kernels (REFIMPL_FAST_KERNELS=1, "
        "also for the docs build the tests start)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--fast-kernels"):
        os.environ["REFIMPL_FAST_KERNELS"] = "1"  # for subprocesses: the docs build
        refimpl.fast.set_enabled(True)


def pytest_report_header(config: pytest.Config) -> str:
    which = "refimpl.fast (switched on)" if refimpl.fast.is_enabled() else "the reference"
    return f"refimpl.functional runs on: {which}"
