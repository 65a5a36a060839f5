"""Shared fixtures: clouds and specs."""

import pytest

from movecheck.spec import Spec, default_cloud


@pytest.fixture
def cloud():
    return default_cloud()


@pytest.fixture
def spec(cloud):
    return Spec(cloud)
