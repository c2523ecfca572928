import pytest

from forms import FormDefinition
from forms_testkit import SAMPLE, Store


@pytest.fixture
def form():
    """The sample definition in tests/forms/answer.json."""
    return FormDefinition.load(SAMPLE)


@pytest.fixture
def store():
    return Store()
