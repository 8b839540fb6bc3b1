"""Fine-tune on your drawings: which iteration, how many epochs, how much of MNIST beside the drawings, and
about how long that takes at the speed measured on this machine."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QWidget

from ...core.training_maths import format_duration
from .iteration_picker import IterationPicker


@dataclass(frozen=True)
class FineTuneSettings:
    iteration: int
    epochs: int
    mnist_images: int | None  # None: all of MNIST's training images


class FineTuneDialog(QDialog):
    def __init__(self, settings: FineTuneSettings, drawings: int, drawing_share: float,
                 images_per_s: float | None, parent: QWidget | None = None):
        """``drawing_share``: drawings added to each batch, as a share of it; ``images_per_s``: the training
        speed measured on this machine (None: not measured yet)."""
        from trainer.training import MNIST_TRAIN_IMAGES  # torch is loaded by the time anyone fine-tunes

        super().__init__(parent)
        self.setWindowTitle("Fine-tune on your drawings")
        self.drawing_share, self.images_per_s = drawing_share, images_per_s
        self.iteration = IterationPicker()
        self.iteration.set_number(settings.iteration)
        self.epochs = QSpinBox(minimum=1, maximum=20, value=settings.epochs)
        self.mnist_images = QSpinBox(minimum=1_000, maximum=MNIST_TRAIN_IMAGES, singleStep=5_000,
                                     value=settings.mnist_images or MNIST_TRAIN_IMAGES)
        self.mnist_images.setSuffix(" images")
        self.mnist_images.setToolTip("MNIST's training images mixed with your drawings, so that the model "
                                     "keeps reading MNIST's digits")
        self.estimate = QLabel()
        self.estimate.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.start_button = buttons.addButton("Fine-tune", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(QLabel(f"Train an iteration a little more on MNIST plus your {drawings} drawings (a fifth of "
                           "them held out to measure it), from the weights it uses now. You choose afterwards "
                           "whether to use the result."))
        form.addRow("Iteration", self.iteration)
        form.addRow("Epochs", self.epochs)
        form.addRow("MNIST", self.mnist_images)
        form.addRow("Time", self.estimate)
        form.addRow(buttons)
        self.epochs.valueChanged.connect(self._estimate)
        self.mnist_images.valueChanged.connect(self._estimate)
        self._estimate()

    def seconds(self) -> float | None:
        """Training time at the measured speed (each epoch's 10k-image test evaluation comes on top)."""
        if not self.images_per_s:
            return None
        images = self.mnist_images.value() * (1 + self.drawing_share)
        return self.epochs.value() * images / self.images_per_s

    def _estimate(self) -> None:
        seconds = self.seconds()
        self.estimate.setText(
            f"about {format_duration(seconds)} of training at the {self.images_per_s:,.0f} images/s measured "
            "on this machine, plus a test evaluation per epoch" if seconds is not None else
            "not known yet: no run has measured this machine's speed")

    def settings(self) -> FineTuneSettings:
        images = self.mnist_images.value()
        return FineTuneSettings(self.iteration.number(), self.epochs.value(),
                                None if images == self.mnist_images.maximum() else images)
