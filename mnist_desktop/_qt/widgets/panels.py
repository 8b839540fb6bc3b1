"""The recognition panel, its probability bars and the iteration card. They only display what they get."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from trainer.iterations import Iteration, describe_layers, model_title

if TYPE_CHECKING:
    from trainer.checkpoint import CheckpointInfo

from ...core.verdict import EMPTY, Verdict

UNSURE_COLOR = "#c77800"


def unsure(probabilities: np.ndarray, threshold: float) -> bool:
    return float(probabilities.max()) < threshold


def rejected(verdict: Verdict | None) -> bool:
    """A "not a digit" to show: something was drawn, and it is not a digit."""
    return verdict is not None and not verdict.is_digit and verdict.reason not in (None, EMPTY)


def reason_capitalised(verdict: Verdict) -> str:
    """The verdict's reason as the start of a sentence."""
    return verdict.reason[:1].upper() + verdict.reason[1:]


def not_a_digit_html(verdict: Verdict, best_guess: bool = True) -> str:
    """"Not a digit?", the reason, and the best guess underneath when the models made one (and it is asked
    for)."""
    text = f"<span style='color:{UNSURE_COLOR}'><b>Not a digit?</b></span> {reason_capitalised(verdict)}."
    if best_guess and verdict.guess is not None:
        text += f"<br>Best guess: {verdict.guess} ({verdict.confidence * 100:.0f}%)"
    return text


def best_guess_note(verdict: Verdict, whose: str) -> str:
    """Said above attribution maps of a drawing that is not a digit: they explain only a best guess."""
    return (f"<b>Not a digit?</b> {reason_capitalised(verdict)}, so these maps show only what "
            f"pushed {whose} towards its best guess, not why the drawing is that digit. ")


class ProbabilityBars(QWidget):
    """Ten vertical bars, one per digit, the top one highlighted. Clicking a bar emits its digit."""

    digitClicked = Signal(int)  # a digit was clicked: Recognise labels the drawing, Inside explains that digit

    def __init__(self, compact: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self.compact = compact
        self.probabilities: np.ndarray | None = None
        self.is_answer = True  # False: the top bar is only a best guess ("Not a digit?"), not drawn as the answer
        self.setMinimumHeight(50 if compact else 120)
        self.setMaximumHeight(90 if compact else 220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set_probabilities(self, probabilities: np.ndarray | None, is_answer: bool = True) -> None:
        self.probabilities = probabilities
        self.is_answer = is_answer
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(160 if self.compact else 300, 60 if self.compact else 140)

    def mousePressEvent(self, event) -> None:
        self.digitClicked.emit(min(9, max(0, int(event.position().x() * 10 // self.width()))))

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        label_h = 14 if self.compact else 18
        slot = self.width() / 10
        usable = self.height() - label_h - (0 if self.compact else 14)
        top = None if self.probabilities is None else int(np.argmax(self.probabilities))
        text = self.palette().windowText().color()
        for digit in range(10):
            x = digit * slot
            p = 0.0 if self.probabilities is None else float(self.probabilities[digit])
            painter.fillRect(QRectF(x + slot * 0.15, 0, slot * 0.7, usable), QColor(127, 127, 127, 40))
            h = usable * p
            answer = "#2a7de1" if self.is_answer else UNSURE_COLOR
            color = QColor(answer if digit == top else "#7f8c99")
            painter.fillRect(QRectF(x + slot * 0.15, usable - h, slot * 0.7, h), color)
            painter.setPen(text)
            painter.drawText(QRectF(x, usable, slot, label_h), Qt.AlignmentFlag.AlignCenter, str(digit))
            if not self.compact and self.probabilities is not None:
                font = painter.font()
                font.setPointSizeF(max(6.0, font.pointSizeF() * 0.7))
                painter.setFont(font)
                painter.drawText(QRectF(x, usable + label_h - 2, slot, 14), Qt.AlignmentFlag.AlignCenter,
                                 f"{p * 100:.0f}")
                painter.setFont(self.font())


def mnist_pixmap(image: np.ndarray | None, side: int) -> QPixmap:
    """A 28x28 float image in [0, 1] as a pixmap, scaled up without smoothing so its pixels show."""
    if image is None:
        pixmap = QPixmap(side, side)
        pixmap.fill(Qt.GlobalColor.black)
        return pixmap
    gray = np.ascontiguousarray((image * 255).round().astype(np.uint8))
    qimage = QImage(gray.data, gray.shape[1], gray.shape[0], gray.shape[1], QImage.Format.Format_Grayscale8)
    return QPixmap.fromImage(qimage.copy()).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                                    Qt.TransformationMode.FastTransformation)


def digit_label(point_size: int) -> QLabel:
    """The big bold digit of an answer ("–" until there is one)."""
    label = QLabel("–")
    font = QFont(label.font())
    font.setPointSize(point_size)
    font.setBold(True)
    label.setFont(font)
    return label


class RecognitionPanel(QGroupBox):
    """What one iteration sees (the 28x28 input) and thinks (top digit, confidence, ten bars)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Recognition", parent)
        self.preview = QLabel()
        self.preview.setToolTip("What the model sees: your drawing preprocessed like MNIST (28x28)")
        self.preview.setPixmap(mnist_pixmap(None, 112))
        self.digit = digit_label(44)
        self.digit.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.digit.setMinimumWidth(80)
        self.verdict = QLabel("Draw a digit")
        self.verdict.setWordWrap(True)
        self.bars = ProbabilityBars()
        top = QHBoxLayout()
        top.addWidget(self.preview)
        top.addWidget(self.digit)
        top.addWidget(self.verdict, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.bars)

    def show_result(self, image: np.ndarray | None, probabilities: np.ndarray | None, threshold: float,
                    unavailable: str | None = None, verdict: Verdict | None = None, own: Verdict | None = None
                    ) -> None:
        """``image`` is exactly what the models saw; ``verdict`` the seven's, with this iteration's digit;
        ``own`` this iteration's verdict on its own (the answer strip's), said beside a digit it doubts."""
        self.preview.setPixmap(mnist_pixmap(image, 112))
        self.bars.set_probabilities(probabilities, is_answer=not rejected(verdict))
        if unavailable:
            self.digit.setText("×")
            self.verdict.setText(unavailable)
        elif rejected(verdict):
            self.digit.setText("?")
            self.verdict.setText(not_a_digit_html(verdict))
        elif image is None:
            self.digit.setText("–")
            self.verdict.setText("No digit: draw one, or open an image.")
        elif probabilities is None:
            self.digit.setText("…")
            self.verdict.setText("Loading the models…")
        else:
            top = int(np.argmax(probabilities))
            confidence = float(probabilities[top]) * 100
            self.digit.setText(str(top))
            if unsure(probabilities, threshold):
                second = int(np.argsort(probabilities)[-2])
                text = (f"<span style='color:{UNSURE_COLOR}'><b>Unsure</b></span>: {confidence:.0f}% "
                        f"{top}, {probabilities[second] * 100:.0f}% {second}")
            else:
                text = f"{confidence:.1f}% confident"
            if rejected(own):  # its cell in the strip shows "?": say why this panel shows a digit all the same
                text += "<br>On its own this model doubts it is a digit; the models together judge it one."
            self.verdict.setText(text)


def trained_on(mnist_images: int, fine_tune: dict | None) -> str:
    """What a run trained on: MNIST's images, and for a fine-tune the person's drawings first."""
    mnist = f"{mnist_images:,} MNIST images"
    if not fine_tune:
        return mnist
    drawings = fine_tune.get("drawings")
    return f"fine-tune on your {drawings} drawing{'s' * (drawings != 1)} + {mnist}"


def card_html(it: Iteration, measured: float | None, retrained: CheckpointInfo | None, error: str | None) -> str:
    """The iteration card: what it tried, its layers and recipe, and its honest accuracy."""
    r = it.recipe
    rows = [
        f"<b>{model_title(it.number)}</b> — {it.summary}",
        f"<small>{describe_layers(it.number)}</small>",
        f"{it.params:,} parameters · {r.epochs} epoch{'s' * (r.epochs != 1)} · Adam lr {r.lr:g} · batch {r.batch_size}",
    ]
    shipped = f"{measured:.2f}%" if measured is not None else "not measured"
    rows.append(f"Test accuracy (10k MNIST test set): <b>{shipped}</b> shipped weights")
    if retrained:
        epochs, fine_tune = retrained.epochs, retrained.extra.get("fine_tune")
        rows.append(f"<b>{'Fine-tuned' if fine_tune else 'Retrained'}</b>: {retrained.test_accuracy:.2f}% test "
                    f"accuracy ({epochs} epoch{'s' * (epochs != 1)}, "
                    f"{trained_on(retrained.train_images, fine_tune)}, seed {retrained.seed}) — in use")
    if it.study_accuracy is not None:  # the seven's
        rows.append(f"<span style='color:gray'>The study reported {it.study_accuracy:g}%, measured on the 60k "
                    f"augmented <i>training</i> images, not on the test set.</span>")
    if error:
        rows.append(f"<span style='color:#c0392b'><b>Unavailable:</b> {error}</span>")
    return "<br>".join(rows)
