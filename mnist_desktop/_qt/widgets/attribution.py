"""Attribution maps on screen: a diverging map with its legend, the seven side by side, and a wrong test digit's
two maps. They only draw; the maps come from mnist_desktop.core (computed on the thread pool, latest wins)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QLinearGradient, QPainter, QPixmap
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from trainer.iterations import ITERATIONS

from ...core.colours import DIVERGING_STOPS, diverging_rgb
from ...core.threads import Threads
from ..concurrency import Latest, WorksWhileVisible
from .panels import best_guess_note, rejected

if TYPE_CHECKING:
    from ...core.attribution import Attribution
    from ...core.predictor import Predictor
    from ...core.verdict import Verdict



def rgb_pixmap(rgb: np.ndarray, side: int) -> QPixmap:
    """uint8 [H, W, 3] as a pixmap ``side`` pixels wide, scaled without smoothing so its pixels show."""
    rgb = np.ascontiguousarray(rgb)
    image = QImage(rgb.data, rgb.shape[1], rgb.shape[0], rgb.shape[1] * 3, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(image.copy()).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                                  Qt.TransformationMode.FastTransformation)


class ScaleLegend(QWidget):
    """A horizontal colour bar from ``low`` to ``high`` with the two ends and (diverging) zero labelled."""

    def __init__(self, stops: tuple[tuple[float, str], ...] = DIVERGING_STOPS, parent: QWidget | None = None):
        super().__init__(parent)
        self.stops = stops
        self.low, self.high = -1.0, 1.0
        self.setFixedHeight(30)
        self.setMinimumWidth(120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_range(self, low: float, high: float) -> None:
        self.low, self.high = low, high
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        bar = QRectF(4, 2, self.width() - 8, 12)
        gradient = QLinearGradient(bar.topLeft(), bar.topRight())
        for at, color in self.stops:
            gradient.setColorAt(at, QColor(color))
        painter.fillRect(bar, gradient)
        painter.setPen(self.palette().windowText().color())
        labels = QRectF(bar.left(), 15, bar.width(), 14)
        painter.drawText(labels, Qt.AlignmentFlag.AlignLeft, f"{self.low:.3g}")
        painter.drawText(labels, Qt.AlignmentFlag.AlignRight, f"{self.high:.3g}")
        if self.low < 0 < self.high:  # the diverging scales are symmetric: zero in the middle
            painter.drawText(labels, Qt.AlignmentFlag.AlignHCenter, "0")


class AttributionMap(QWidget):
    """One attribution map: a title, the 28×28 map in a diverging colour map over the faint digit, its legend."""

    def __init__(self, side: int = 168, with_caption: bool = True, parent: QWidget | None = None):
        super().__init__(parent)
        self.side = side
        self.attribution: Attribution | None = None
        self.title = QLabel("")
        self.title.setWordWrap(True)
        self.picture = QLabel()
        self.picture.setFixedSize(side, side)
        self.legend = ScaleLegend()
        self.legend.setFixedWidth(side)
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("color: gray")
        self.caption.setVisible(with_caption)  # small maps side by side share one explanation above them
        self.setMaximumWidth(side + 8)  # long captions wrap instead of widening the row
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.title)
        layout.addWidget(self.picture)
        layout.addWidget(self.legend)
        layout.addWidget(self.caption)
        layout.addStretch(1)
        self.clear()

    def clear(self, note: str = "") -> None:
        self.attribution = None
        blank = QPixmap(self.side, self.side)
        blank.fill(QColor(DIVERGING_STOPS[1][1]))  # the zero colour
        self.picture.setPixmap(blank)
        self.picture.setToolTip("")
        self.caption.setText(note)

    def show_attribution(self, attribution: Attribution, image: np.ndarray, title: str) -> None:
        self.attribution = attribution
        limit = attribution.limit
        self.title.setText(title)
        self.picture.setPixmap(rgb_pixmap(diverging_rgb(attribution.map, limit, image), self.side))
        self.legend.set_range(-limit, limit)
        target = attribution.target
        self.caption.setText(f"Red raised the score of “{target}”, blue lowered it ({attribution.method}, "
                             "logit units per pixel).")
        completeness = ("" if attribution.delta is None else
                        f"; the pixels sum to {attribution.map.sum():+.2f} = score {attribution.score:+.2f} minus "
                        f"{attribution.baseline_score:+.2f} for a blank canvas (gap {attribution.delta:+.3f})")
        self.picture.setToolTip(f"{attribution.method} for “{target}”: from {-limit:.3g} to {limit:.3g}{completeness}")


class WhereTheyLook(WorksWhileVisible, QWidget):
    """The seven iterations' maps for their own top digit, for the same drawing, side by side."""

    shown = Signal()  # a set of maps was drawn

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.status = QLabel("Draw a digit to see where each iteration looks.")
        self.status.setWordWrap(True)
        self.maps = {n: AttributionMap(side=112, with_caption=False) for n in ITERATIONS}
        grid = QGridLayout()
        for i, (n, view) in enumerate(self.maps.items()):
            grid.addWidget(view, i // 4, i % 4)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addLayout(grid)
        layout.addStretch(1)
        self._runner = Latest(self.status.setText, parent=self)
        self.verdict: Verdict | None = None

    def show_drawing(self, image: np.ndarray | None, predictor: Predictor | None,
                     verdict: Verdict | None = None) -> None:
        """``verdict``: the seven's; when it is "not a digit" the maps say they explain only best guesses."""
        self.verdict = verdict
        self.request(image, predictor)

    def _compute(self, image: np.ndarray | None, predictor: Predictor | None) -> None:
        if image is None or predictor is None:
            for view in self.maps.values():
                view.clear()
            self.status.setText("Draw a digit to see where each iteration looks.")
            return
        models = {n: predictor.slots[n].model for n in predictor.available()}

        def work() -> dict[int, Attribution]:
            from ...core.inside import explain_top

            return {n: explain_top(model, image) for n, model in models.items()}

        self._runner.request(work, lambda maps: self._show(image, maps), threads=Threads.ONE_IMAGE)

    def _show(self, image: np.ndarray, maps: dict[int, Attribution]) -> None:
        guesses = rejected(self.verdict)
        for n, view in self.maps.items():
            if n in maps:
                view.show_attribution(maps[n], image, f"Iteration {n}: {'best guess' if guesses else 'why'} "
                                                      f"{maps[n].target}")
            else:
                view.clear("unavailable")
        note = best_guess_note(self.verdict, "each iteration") if guesses else ""
        self.status.setText(note + "Each iteration's integrated gradients for the digit it chose: red pixels raised that "
                            "digit's score, blue ones lowered it. Scales differ per iteration (see each legend).")
        self.shown.emit()


class MistakeExplanation(QWidget):
    """For a test digit a model gets wrong: its map for the true digit and for the digit it predicted."""

    shown = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.status = QLabel("Select a wrong digit to see why the model chose it.")
        self.status.setWordWrap(True)
        self.true_map, self.predicted_map = (AttributionMap(side=112, with_caption=False) for _ in range(2))
        row = QHBoxLayout()
        row.addWidget(self.true_map)
        row.addWidget(self.predicted_map)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addLayout(row)
        self._runner = Latest(self.status.setText, parent=self)

    def show_mistake(self, model, image: np.ndarray, truth: int, predicted: int) -> None:
        """``image`` float32 [28, 28] in [0, 1]."""

        def work():
            from ...core.attribution import ATTRIBUTION_METHOD, Scores, Target

            return ATTRIBUTION_METHOD(Scores(model)).attribute_many(image, [Target(truth), Target(predicted)])

        self.status.setText(f"A {truth} the model read as {predicted}: red pixels raised the digit's score, blue "
                            "ones lowered it (integrated gradients).")
        self._runner.request(work, lambda maps: self._show(image, maps), threads=Threads.ONE_IMAGE)

    def _show(self, image: np.ndarray, maps: list[Attribution]) -> None:
        true_map, predicted_map = maps
        self.true_map.show_attribution(true_map, image, f"why {true_map.target} (the truth)")
        self.predicted_map.show_attribution(predicted_map, image, f"why {predicted_map.target} (its answer)")
        self.shown.emit()
