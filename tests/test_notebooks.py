"""The committed notebooks are clean: executed in order, no stored error, no stderr output.

nbval compares stored with fresh outputs, so a stored error that recurs would pass it (an
exception raised while *displaying* a figure is stored as an error output without stopping
execution). This test refuses such a notebook outright."""

import json
from pathlib import Path

import pytest

CHAPTERS = sorted((Path(__file__).resolve().parents[1] / "chapters").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda path: path.stem)
def test_notebook_is_executed_and_clean(notebook):
    cells = [cell for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]
             if cell["cell_type"] == "code" and "".join(cell["source"]).strip()]
    counts = [cell["execution_count"] for cell in cells]
    assert None not in counts, f"{notebook.name}: a code cell was never executed"
    assert counts == list(range(1, len(cells) + 1)), f"{notebook.name}: not run top to bottom"
    for number, cell in enumerate(cells, start=1):
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", f"{notebook.name}, code cell {number}: error"
            assert output.get("name") != "stderr", f"{notebook.name}, code cell {number}: stderr"
