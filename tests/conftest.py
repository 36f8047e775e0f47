"""Every test runs with its own GROUNDUP_HOME and workspace and in English unless it says otherwise."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from groundup import i18n

# CI draws the same examples every run, so a red build always reproduces; local runs keep
# drawing new ones and so keep searching for bugs.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "default")


def pytest_configure(config: pytest.Config) -> None:
    # pytest-xdist runs two workers on two cores: one thread each avoids oversubscription
    import torch

    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path_factory.mktemp("groundup-home")
    monkeypatch.setenv("GROUNDUP_HOME", str(home))
    monkeypatch.setenv("GROUNDUP_LANG", "en")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # grader subprocesses, too
    monkeypatch.delenv("GROUNDUP_WORKSPACE", raising=False)
    i18n.set_lang(None)
    yield home
    i18n.set_lang(None)
