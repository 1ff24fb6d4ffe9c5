import os

import pytest
import torch
from hypothesis import HealthCheck, settings

import refimpl
from tests import site_build as builds
from tests.site_build import SiteBuild

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
    builds.choose_port()  # before xdist starts its workers: they inherit the environment
    # One intra-op thread in every test process and in the docs builds the tests start:
    # they share the cores with each other, and torch's waiting threads spin, stalling
    # every process when the cores are busy. (Also: the same threads, the same floats.)
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Start the docs builds in the background, once per run (not in xdist's workers)."""
    config = session.config
    if os.environ.get("PYTEST_XDIST_WORKER") or not builds.wanted(
        config.args, config.invocation_params.dir
    ):
        return
    base = config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    config.stash[_BUILDERS] = builds.start_in_background(base)


def pytest_unconfigure(config: pytest.Config) -> None:
    builds.stop(config.stash.get(_BUILDERS, []))


_BUILDERS = pytest.StashKey[list]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that read the builds go last, so the background builds are done by then."""
    items.sort(key=lambda item: "site_build" in getattr(item, "fixturenames", ()))


@pytest.fixture(scope="session")
def site_build(tmp_path_factory: pytest.TempPathFactory) -> SiteBuild:
    """The run's strict build of the site (tests/site_build.py), made once for all workers."""
    return builds.build_once(builds.shared_folder(tmp_path_factory), "served")


@pytest.fixture(scope="session")
def second_site_build(tmp_path_factory: pytest.TempPathFactory) -> SiteBuild:
    """A second, independent build of the same sources, for the determinism test."""
    return builds.build_once(builds.shared_folder(tmp_path_factory), "again")
