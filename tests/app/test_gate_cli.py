"""``mnist-desktop gate``: its bad input is one sentence (the whole command trains for many minutes; its figures
are in the README)."""
from mnist_desktop.command import launch


def test_measuring_a_gate_that_cannot_be_read_is_one_sentence(tmp_path, capsys):
    assert launch(["gate", "--measure-only", "--weights-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: Cannot open") and err.endswith("Run mnist-desktop gate to write it again.")
    assert len(err.splitlines()) == 1
    (tmp_path / "gate.pt").write_bytes(b"not a gate")
    assert launch(["gate", "--measure-only", "--weights-dir", str(tmp_path)]) == 2
    assert "Run mnist-desktop gate to write it again." in capsys.readouterr().err
