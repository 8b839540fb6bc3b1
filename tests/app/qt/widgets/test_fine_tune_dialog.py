"""The fine-tune's few settings, with a time estimate that follows them, set with real keys."""
from PySide6.QtCore import Qt

from mnist_desktop._qt.widgets.fine_tune_dialog import FineTuneDialog, FineTuneSettings


def type_into(qtbot, spin, text: str) -> None:
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, Qt.Key.Key_Tab)


def test_the_settings_and_their_estimate(qtbot):
    dialog = FineTuneDialog(FineTuneSettings(5, 2, None), drawings=12, drawing_share=0.125, images_per_s=4500.0)
    qtbot.addWidget(dialog)
    dialog.show()
    assert "your 12 drawings" in dialog.findChildren(type(dialog.estimate))[0].text()
    assert dialog.seconds() == 2 * 60_000 * 1.125 / 4500  # 30 s
    assert dialog.estimate.text().startswith("about 0:30 of training at the 4,500 images/s measured")
    type_into(qtbot, dialog.epochs, "4")
    type_into(qtbot, dialog.mnist_images, "20000")
    assert dialog.estimate.text().startswith("about 0:20 of training")
    dialog.iteration.set_number(3)
    assert dialog.settings() == FineTuneSettings(3, 4, 20_000)
    type_into(qtbot, dialog.mnist_images, "60000")
    assert dialog.settings().mnist_images is None  # all of them


def test_without_a_measured_speed_it_says_so(qtbot):
    dialog = FineTuneDialog(FineTuneSettings(5, 2, 10_000), drawings=3, drawing_share=0.125, images_per_s=None)
    qtbot.addWidget(dialog)
    assert dialog.seconds() is None and dialog.estimate.text().startswith("not known yet")
    assert dialog.settings() == FineTuneSettings(5, 2, 10_000)
