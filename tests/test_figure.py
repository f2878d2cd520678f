"""irn.plots.caption: a numbered caption whose download link holds exactly the figure's table."""

from __future__ import annotations

import base64
import io
import re

import pandas as pd
import pytest

from irn import plots


def test_caption_link_holds_the_table():
    data = pd.DataFrame({"node": [0, 1, 2], "contribution": [0.5, -0.25, 1 / 3], "concept": ["A", "B", "C"]})
    shown = plots.caption("5.1", "Relay <matrices> & more.", data, "fig5_1")._repr_html_()
    assert shown.startswith('<p class="irn-caption"><b>Figure 5.1.</b> Relay &lt;matrices&gt; &amp; more.')
    encoded = re.search(r'download="fig5_1.csv" href="data:text/csv;base64,([^"]+)"', shown).group(1)
    back = pd.read_csv(io.StringIO(base64.b64decode(encoded).decode("utf-8")))
    pd.testing.assert_frame_equal(back, data)
    assert "download" not in plots.caption("2", "No data.")._repr_html_()


@pytest.mark.parametrize(("args", "name"), [(("5-1", "text"), "number"), (("5.1", " "), "text"),
                                            (("5.1", "t", [1, 2]), "data"), (("5.1", "t", None, "a b"), "name")])
def test_caption_refuses_bad_input(args, name):
    with pytest.raises(ValueError, match=f"^{name} "):
        plots.caption(*args)
