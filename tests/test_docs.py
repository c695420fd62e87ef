"""Theory notes name tests that exist; README links resolve."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTES = sorted((ROOT / "theory").glob("[0-9][0-9]_*.md"))


@pytest.mark.parametrize("note", NOTES, ids=[n.stem for n in NOTES])
def test_theory_note_names_existing_tests(note):
    text = note.read_text()
    refs = re.findall(r"tests/theory/(test_\w+\.py)::(test_\w+)", text)
    assert refs, f"{note.name} must name its check as tests/theory/test_x.py::test_name"
    for fname, test in refs:
        path = ROOT / "tests" / "theory" / fname
        assert path.exists(), f"{note.name} names missing file {fname}"
        assert re.search(rf"def {test}\b", path.read_text()), (
            f"{note.name} names missing test {test}"
        )
    for section in ("Statement", "Source", "Used by", "Check"):
        assert f"## {section}" in text, f"{note.name} lacks a '## {section}' section"


def test_readme_links_exist():
    text = (ROOT / "README.md").read_text()
    for link in re.findall(r"\]\(((?:theory|tutorials)/[^)#]+)\)", text):
        assert (ROOT / link).exists(), f"README links to missing {link}"
