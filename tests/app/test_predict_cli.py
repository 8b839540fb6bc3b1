"""``mnist-desktop predict``: the recognition path without a window, as a script would use it."""
import json
import subprocess
import sys

import numpy as np
from PIL import Image

from mnist_desktop.predict_cli import EXIT_UNREADABLE


def run(*args: str) -> subprocess.CompletedProcess:
    # Through the mnist-desktop command's launch(), and report whether Qt was loaded on the way.
    code = ("import sys; from mnist_desktop.command import launch; status = launch(sys.argv[1:]); "
            "print('QT' if any(m.startswith('PySide6') for m in sys.modules) else 'NO-QT'); sys.exit(status)")
    return subprocess.run([sys.executable, "-c", code, "predict", *args], capture_output=True, text=True, timeout=600)


def test_json_lines_for_digits_non_digits_and_a_bad_file(tmp_path, hwd_dir):
    blob = np.zeros((100, 100), np.uint8)
    blob[20:80, 15:85] = 255  # a filled rectangle
    Image.fromarray(blob).save(tmp_path / "blob.png")
    Image.fromarray(np.zeros((50, 50), np.uint8)).save(tmp_path / "empty.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    digits = [str(hwd_dir / "img" / name) for name in ("3-001.png", "7-001.png")]
    files = [digits[0], str(tmp_path / "blob.png"), str(tmp_path / "broken.png"), str(tmp_path / "empty.png"),
             digits[1]]
    out = run("--json", *files)
    assert out.returncode == EXIT_UNREADABLE, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[-1] == "NO-QT"
    records = {r["file"]: r for r in map(json.loads, lines[:-1])}
    assert list(records) == [files[2], files[0], files[1], files[3], files[4]]  # the error first in its batch
    assert records[digits[0]]["digit"] == 3 and records[digits[1]]["digit"] == 7
    seven = records[digits[1]]
    assert seven["reason"] is None and seven["confidence"] > 0.5
    assert sorted(seven["iterations"], key=int) == [str(n) for n in range(1, 8)]
    assert len(seven["iterations"]["5"]["probabilities"]) == 10
    assert records[files[1]]["digit"] is None and "blob" in records[files[1]]["reason"]
    assert records[files[3]] == {"file": files[3], "digit": None, "reason": "the canvas is empty",
                                 "confidence": None, "iterations": {}}
    assert "cannot be opened as an image" in records[files[2]]["error"]


def test_text_and_the_headline_iteration(hwd_dir):
    out = run("--iteration", "1", str(hwd_dir / "img" / "4-001.png"))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith(f"{hwd_dir / 'img' / '4-001.png'}: 4 (")
    assert [line.split(":")[0].strip() for line in lines[1:8]] == [f"iteration {n}" for n in range(1, 8)]
    assert "Exit status: 0 when every file was read, 2" in run("--help").stdout
