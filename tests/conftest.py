import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """Small networks on 2-core machines are much faster with one torch thread."""
    torch.set_num_threads(1)
    yield
