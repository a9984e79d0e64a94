import pytest

from callers.scenario.scenarios import load_scenarios


@pytest.fixture(scope="module")
def catalog():
    return load_scenarios()
