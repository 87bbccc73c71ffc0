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
