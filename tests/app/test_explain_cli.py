"""``mnist-desktop predict --explain DIR``: the maps as PNG files, one set per file and iteration."""
import numpy as np
from PIL import Image

from mnist_desktop.predict_cli import EXIT_UNREADABLE, main
from trainer.iterations import ITERATIONS


def test_explain_writes_the_maps_of_every_iteration_and_says_when_it_cannot(tmp_path, capsys):
    paper = np.full((200, 150), 255, np.uint8)
    paper[30:170, 65:85] = 0  # a dark "1" on white paper
    Image.fromarray(paper).save(tmp_path / "one.png")
    assert main([str(tmp_path / "one.png"), "--explain", str(tmp_path / "maps")]) == 0
    names = {p.name for p in (tmp_path / "maps").iterdir()}
    assert {f"one-iteration{n}-why-1.png" for n in ITERATIONS} <= names
    assert "one-iteration5-conv5.png" in names and "one-iteration2-conv7.png" in names
    (tmp_path / "a file").write_text("")
    assert main([str(tmp_path / "one.png"), "--explain", str(tmp_path / "a file")]) == EXIT_UNREADABLE
    assert "Choose a folder you can write to." in capsys.readouterr().err
