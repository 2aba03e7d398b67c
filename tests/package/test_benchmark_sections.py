"""benchmarks.sections: one benchmark's run never drops another's table."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository
from benchmarks.sections import write_section  # noqa: E402


def test_a_section_is_replaced_in_place_and_the_others_kept(tmp_path):
    path = tmp_path / "results.md"
    write_section("<a>", "</a>", "<a>\nfirst A\n</a>", path)
    write_section("<b>", "</b>", "<b>\nB\n</b>", path)
    write_section("<a>", "</a>", "<a>\nsecond A\n</a>", path)
    text = path.read_text()
    assert text.startswith("# Benchmarks\n")
    assert "second A" in text and "first A" not in text and "\nB\n" in text
    assert text.index("<a>") < text.index("<b>")  # A stays where it was


def test_a_section_without_its_markers_is_refused(tmp_path):
    with pytest.raises(ValueError, match="marker"):
        write_section("<a>", "</a>", "no markers", tmp_path / "results.md")
