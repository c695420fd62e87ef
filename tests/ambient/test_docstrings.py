"""Every public name of sciddm.ambient is documented to the numpydoc standard (issue 18)."""

import pytest

from tests.diffusion._docs import docstring_problems


@pytest.mark.parametrize("module", ["sciddm.ambient", "sciddm.ambient.toys"])
def test_public_names_have_parameters_returns_and_examples(module):
    assert docstring_problems(module) == []
