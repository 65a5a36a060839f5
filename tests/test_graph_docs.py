"""docs/graphs.md embeds the status-machine pictures the tool draws, and they are current."""

from pathlib import Path

import pytest

from movecheck.graph.docimages import expected_images

DOCS = Path(__file__).resolve().parent.parent / "docs"
IMAGES = expected_images()


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_docs_picture_is_current(name):
    path = DOCS / "images" / name
    assert path.exists(), f"{path} is missing"
    assert path.read_text(encoding="utf-8") == IMAGES[name], (
        f"{path} is stale: run python -m movecheck.graph.docimages docs")


def test_graphs_md_embeds_every_status_machine_picture():
    text = (DOCS / "graphs.md").read_text(encoding="utf-8")
    for name in IMAGES:
        if name.endswith(".svg"):
            assert f"](images/{name})" in text
