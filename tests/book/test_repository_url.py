"""The repository address is one setting, and a published book refuses the
placeholder (tools/repository_url.py)."""

import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))

import repository_url as ru  # noqa: E402


def _course(tmp_path, url):
    shutil.copy(REPO / "_config.yml", tmp_path / "_config.yml")
    text = (tmp_path / "_config.yml").read_text().replace(ru.PLACEHOLDER, url)
    (tmp_path / "_config.yml").write_text(text)
    (tmp_path / "book").mkdir()
    for path in sorted((REPO / "book").glob("0[12]_*.ipynb")):
        shutil.copy(path, tmp_path / "book" / path.name)
    return tmp_path


def test_every_chapter_cell_uses_the_configured_address():
    url = ru.repository_url()
    cells = ru.cell_urls()
    assert cells and all(urls == [url] for urls in cells.values()), cells


def test_placeholder_warns_locally_and_fails_a_published_build(tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    root = _course(tmp_path, ru.PLACEHOLDER)
    errors, warnings = ru.problems(published=False, root=root)
    assert errors == [] and "placeholder" in warnings[0]
    errors, _ = ru.problems(published=True, root=root)
    assert len(errors) == 1 and "placeholder" in errors[0]


def test_a_fork_must_publish_its_own_address(tmp_path, monkeypatch):
    root = _course(tmp_path, "https://github.com/some-school/backprop")
    # the cells still name the placeholder: out of sync, always an error
    errors, _ = ru.problems(published=False, root=root)
    assert errors and all("set-up cell" in e for e in errors)
    for path in (root / "book").glob("*.ipynb"):
        path.write_text(path.read_text().replace(
            ru.PLACEHOLDER, "https://github.com/some-school/backprop"))
    assert ru.problems(published=True, root=root) == ([], [])
    monkeypatch.setenv("GITHUB_REPOSITORY", "other-school/backprop")
    errors, _ = ru.problems(published=True, root=root)
    assert errors == ["repository.url is https://github.com/some-school/backprop, "
                      "but this build publishes https://github.com/other-school/"
                      "backprop"]
    assert json.loads((root / "book" / "01_forward_pass.ipynb").read_text())
