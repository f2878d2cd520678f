"""The README's Python example runs as written, and its knockout shows what it says."""

import re
from pathlib import Path

import torch

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_examples_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README.md should show how to use irn on your own network"
    torch.set_num_threads(1)
    for code in blocks:
        namespace = {}
        exec(compile(code, "README.md", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "north" in printed and "layer" in printed
    # the example's claim: the trained network is right, and losing a class's relay nodes costs that
    # class more than losing as many random nodes
    assert (namespace["rec"].correct > 0.95).all()
    own = namespace["own"].groupby("set_size").accuracy.mean()
    rand = namespace["rand"].groupby("set_size").accuracy.mean()
    assert (own.loc[3:6] < rand.loc[3:6]).all(), (own, rand)
