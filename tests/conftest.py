"""Shared test setup: one torch thread (tiny matrices run much faster on one thread than on two contending
ones on a shared 2-core machine), and the fixtures several test modules use."""
import pytest
import torch

from tests.support.checks_data import clean_frame
from tests.support.plants import tiny_parallel_release
from tests.support.releases import tiny_records

torch.set_num_threads(1)


@pytest.fixture
def tiny_release_records():
    """Records of a tiny release (en, fr, ja; two relations) for release and hub tests."""
    return tiny_records()


@pytest.fixture
def clean_check_frame():
    """A frame every validator check passes on; a test plants one defect in it."""
    return clean_frame()


@pytest.fixture
def parallel_release_frame():
    """A tiny release frame with facts parallel in the 7 core languages, for training and planting tests."""
    return tiny_parallel_release()
