"""The questions only a person can answer: use a new model or keep the one in use; where MNIST is, when it
is missing (plain words first, the technical message behind Details; nothing is downloaded unless the person
presses Download, and the download shows its progress and can be cancelled).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

DOWNLOAD_LABEL = "Download (11 MB)"


def ask_to_use(parent: QWidget, title: str, text: str, use_label: str) -> bool:
    """A new run is saved: use it, or keep the model in use (the default)?"""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=parent)
    box.setInformativeText("The new run is saved as a past run either way; you can use it later.")
    keep = box.addButton("Keep the current model", QMessageBox.ButtonRole.RejectRole)
    use = box.addButton(use_label, QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(keep)
    box.exec()
    return box.clickedButton() is use


class MissingDataDialog(QMessageBox):
    """Choose folder… / Download (11 MB) / Cancel. Which was pressed: ``clickedButton()`` against
    ``choose_button`` and ``download_button``."""

    def __init__(self, files: list[str], looked_in: list[Path], download_into: Path, details: str,
                 parent: QWidget | None = None):
        super().__init__(QMessageBox.Icon.Question, "MNIST is needed",
                         "Training and the confusion matrix need MNIST, the 70,000 handwritten digits the models "
                         "learn from and are tested on.", QMessageBox.StandardButton.Cancel, parent)
        folders = "\n".join(f"  • {folder}" for folder in looked_in)
        self.setInformativeText(
            f"MNIST is four files, 11 MB in all:\n{chr(10).join('  • ' + name for name in files)}\n\n"
            f"They are not in any of these folders:\n{folders}\n\n"
            f"Choose the folder that holds them, or download them into {download_into}.")
        self.setDetailedText(details)
        self.choose_button = self.addButton("Choose folder…", QMessageBox.ButtonRole.ActionRole)
        self.download_button = self.addButton(DOWNLOAD_LABEL, QMessageBox.ButtonRole.AcceptRole)
        self.setDefaultButton(self.download_button)


class DownloadProgress(QProgressDialog):
    """Files downloaded so far, with a Cancel button."""

    def __init__(self, target: Path, files: int, parent: QWidget | None = None):
        super().__init__(f"Downloading MNIST into {target}…", "Cancel", 0, files, parent)
        self.target = target
        self.setWindowTitle("MNIST")
        self.setMinimumDuration(0)
        self.setAutoClose(False)
        self.setAutoReset(False)

    def show_progress(self, done: int, total: int) -> None:
        self.setMaximum(total)
        self.setValue(done)
        self.setLabelText(f"Downloading MNIST into {self.target}: {done} of {total} files")
