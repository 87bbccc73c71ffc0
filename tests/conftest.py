"""Shared fixtures."""

import pytest


@pytest.fixture(scope="module")
def one_torch_thread():
    """One intra-op thread: on a shared 2-core machine, two spinning OpenMP threads make small
    forwards 100x slower whenever another process holds a core. Restored afterwards."""
    import torch  # here, not at module level: the knowledge and agent tests must not need torch

    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


@pytest.fixture(autouse=True, scope="session")
def _private_state_folder(tmp_path_factory):
    """The suite's own $XDG_STATE_HOME, so no test reads or fills the user's state folder (the
    restore estimate's calibration cache, for one). Tests that need another one set it themselves."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
        yield
