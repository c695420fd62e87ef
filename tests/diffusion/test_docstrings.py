"""Every public name of sciddm.diffusion is documented to the numpydoc standard (issue 18)."""

import pytest

from tests.diffusion._docs import docstring_problems


@pytest.mark.parametrize("module", ["sciddm.diffusion", "sciddm.diffusion.toys"])
def test_public_names_have_parameters_returns_and_examples(module):
    assert docstring_problems(module) == []
