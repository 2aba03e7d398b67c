"""The course's repository address: one setting, `repository.url` in _config.yml.

Jupyter Book builds the Colab and Binder launch buttons from it, the set-up cell
of every chapter (written by tools/add_colab_cell.py) installs the engine from
it on Colab, and the Pages workflow publishes the book that carries them. A fork
sets it once, runs `python tools/add_colab_cell.py`, and commits.

    python tools/repository_url.py              # warn about the placeholder
    python tools/repository_url.py --published  # fail on it (the Pages workflow)

Always an error: a chapter whose set-up cell names another address. With
--published (or COURSE_PUBLISH=1), also an error: the placeholder address, or,
in GitHub Actions, an address that is not the repository being published.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The address the course ships with: no fork publishes from it.
PLACEHOLDER = "https://github.com/backprop-from-scratch/backprop-from-scratch"
MARK = "# course set-up cell"


def repository_url(root: Path = ROOT) -> str:
    """`repository.url` of _config.yml."""
    config = (root / "_config.yml").read_text()
    match = re.search(r"^repository:\s*\n(?:\s+\S.*\n)*?\s+url:\s*(\S+)", config, re.M)
    if not match:
        sys.exit("_config.yml has no repository.url")
    return match.group(1).strip("'\"").rstrip("/")


def cell_urls(root: Path = ROOT) -> dict[str, list[str]]:
    """`{notebook: [addresses its set-up cell installs from]}`."""
    out = {}
    for path in sorted((root / "book").glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text()).get("cells", [])
        found = []
        for cell in cells:
            src = "".join(cell.get("source", []))
            if src.startswith(MARK):
                found += re.findall(r"git\+(\S+?)\"", src)
        out[path.name] = found
    return out


def problems(published: bool, root: Path = ROOT) -> tuple[list[str], list[str]]:
    """(errors, warnings) about the address."""
    url = repository_url(root)
    errors, warnings = [], []
    for name, urls in cell_urls(root).items():
        if any(u.rstrip("/") != url for u in urls):
            errors.append(f"book/{name}: its set-up cell installs from {urls}, not "
                          f"{url}: run python tools/add_colab_cell.py")
    placeholder = f"repository.url in _config.yml is the placeholder {PLACEHOLDER}"
    if url == PLACEHOLDER:
        (errors if published else warnings).append(
            placeholder + ": the Colab and Binder buttons and the set-up cells point "
            "at it; set your repository's address")
    repo = os.environ.get("GITHUB_REPOSITORY")
    if published and repo and url.lower() != f"https://github.com/{repo}".lower():
        errors.append(f"repository.url is {url}, but this build publishes "
                      f"https://github.com/{repo}")
    return errors, warnings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--published", action="store_true",
                        help="a build that is published: the placeholder is an error")
    args = parser.parse_args(argv)
    published = args.published or os.environ.get("COURSE_PUBLISH") == "1"
    errors, warnings = problems(published)
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    for e in errors:
        print(f"ERROR: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
