"""The Inside view: the drawing as one iteration sees it, every conv layer's feature maps, the ten logits, and
why this digit. It only draws: mnist_desktop.core.inside computes the maps on the thread pool (latest wins),
and only while the view is visible."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPoint, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QToolTip, QVBoxLayout, QWidget

from ...core.colours import SEQUENTIAL_STOPS, sequential_rgb
from ...core.threads import Threads
from ..concurrency import Latest, WorksWhileVisible
from ..widgets.attribution import AttributionMap, ScaleLegend, rgb_pixmap
from ..widgets.panels import ProbabilityBars, best_guess_note, mnist_pixmap, rejected

if TYPE_CHECKING:
    from ...core.inside import Explanation, LayerMaps
    from ...core.verdict import Verdict

COLUMNS = 8  # feature maps per row
ENLARGED_SIDE = 168
CELL_SIDE = {28: 56, 14: 42, 7: 35}  # on-screen side of a map, by its size in pixels
GAP = 3


class FeatureGrid(QWidget):
    """One layer's feature maps in a grid, on the layer's shared colour scale. Hover: channel and value range;
    click: ``mapClicked(channel)``."""

    mapClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.layer: LayerMaps | None = None
        self.pixmaps: list[QPixmap] = []
        self.cell = 35
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def set_layer(self, layer: LayerMaps) -> None:
        self.layer = layer
        self.cell = CELL_SIDE.get(layer.layer.size, 35)
        self.pixmaps = [rgb_pixmap(sequential_rgb(m, layer.peak), self.cell) for m in layer.maps]
        rows = -(-len(self.pixmaps) // COLUMNS)
        self.setFixedSize(QSize(COLUMNS * (self.cell + GAP), rows * (self.cell + GAP)))
        self.update()

    def channel_at(self, pos: QPoint) -> int | None:
        column, row = pos.x() // (self.cell + GAP), pos.y() // (self.cell + GAP)
        channel = row * COLUMNS + column
        return channel if column < COLUMNS and 0 <= channel < len(self.pixmaps) else None

    def describe(self, channel: int) -> str:
        values = self.layer.maps[channel]
        return f"channel {channel + 1} of {len(self.pixmaps)}: values {values.min():.3g} to {values.max():.3g}"

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        for channel, pixmap in enumerate(self.pixmaps):
            painter.drawPixmap(channel % COLUMNS * (self.cell + GAP), channel // COLUMNS * (self.cell + GAP), pixmap)

    def mouseMoveEvent(self, event) -> None:
        channel = self.channel_at(event.position().toPoint())
        text = self.describe(channel) if channel is not None else ""
        self.setToolTip(text)
        QToolTip.showText(event.globalPosition().toPoint(), text, self)

    def mousePressEvent(self, event) -> None:
        channel = self.channel_at(event.position().toPoint())
        if channel is not None:
            self.mapClicked.emit(channel)


class LogitBars(QWidget):
    """The ten logits as bars up (positive) or down (negative) from zero, each labelled with its value."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.logits: np.ndarray | None = None
        self.setMinimumSize(260, 120)

    def set_logits(self, logits: np.ndarray | None) -> None:
        self.logits = logits
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        text = self.palette().windowText().color()
        label_h, slot = 16, self.width() / 10
        mid = (self.height() - 2 * label_h) / 2 + label_h
        painter.setPen(text)
        painter.drawLine(0, round(mid), self.width(), round(mid))
        if self.logits is None:
            return
        scale = (mid - label_h) / max(float(np.abs(self.logits).max()), 1e-6)
        top = int(np.argmax(self.logits))
        for digit, value in enumerate(self.logits):
            h = float(value) * scale
            rect = QRectF(digit * slot + slot * 0.2, mid - max(h, 0), slot * 0.6, abs(h))
            painter.fillRect(rect, QColor("#2a7de1") if digit == top else QColor("#7f8c99"))
            painter.drawText(QRectF(digit * slot, self.height() - label_h, slot, label_h),
                             Qt.AlignmentFlag.AlignCenter, str(digit))
            painter.drawText(QRectF(digit * slot - 4, 0, slot + 8, label_h), Qt.AlignmentFlag.AlignCenter,
                             f"{value:.1f}")


class LayerRow(QWidget):
    """A conv layer's label, its colour scale's legend and its maps."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.legend = ScaleLegend(SEQUENTIAL_STOPS)
        self.legend.setFixedWidth(220)
        self.grid = FeatureGrid()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.legend)
        layout.addWidget(self.grid)

    def set_layer(self, layer: LayerMaps) -> None:
        self.title.setText(f"<b>{layer.layer.label}</b>")
        self.legend.set_range(0.0, layer.peak)
        self.grid.set_layer(layer)


class InsideView(WorksWhileVisible, QScrollArea):
    """What one iteration makes of the drawing, live as you draw."""

    shown = Signal()  # an explanation was drawn
    failed = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.explanation: Explanation | None = None
        self.digit: int | None = None  # the digit to explain; None: the top one
        self._current: tuple | None = None  # the last (image, iteration, model), to explain another digit

        self.status = QLabel("Draw a digit to look inside the model.")
        self.status.setWordWrap(True)
        self.preview = QLabel()
        self.preview.setToolTip("The input: your drawing preprocessed like MNIST (28×28)")
        self.preview.setPixmap(mnist_pixmap(None, 112))
        self.enlarged = QLabel()
        self.enlarged.setFixedSize(ENLARGED_SIDE, ENLARGED_SIDE)
        self.enlarged.setPixmap(mnist_pixmap(None, ENLARGED_SIDE))
        self.enlarged_caption = QLabel("Click a feature map below to enlarge it here.")
        self.enlarged_caption.setWordWrap(True)
        self.enlarged_caption.setFixedWidth(ENLARGED_SIDE)
        self.logits = LogitBars()
        self.logits.setToolTip("The ten logits: the scores before the softmax")
        self.bars = ProbabilityBars(compact=True)
        self.bars.setToolTip("Click a digit to see why the model would (or would not) say it")
        self.bars.digitClicked.connect(self.set_digit)
        self.why, self.why_not = AttributionMap(), AttributionMap()

        top = QHBoxLayout()
        for title, widget in (("Input", self.preview), ("Logits", self.logits)):
            box = QVBoxLayout()
            box.addWidget(QLabel(f"<b>{title}</b>"))
            box.addWidget(widget)
            box.addStretch(1)
            top.addLayout(box, 1 if widget is self.logits else 0)
        enlarged = QVBoxLayout()
        enlarged.addWidget(self.enlarged)
        enlarged.addWidget(self.enlarged_caption)
        enlarged.addStretch(1)
        why = QHBoxLayout()
        why.addWidget(self.why)
        why.addWidget(self.why_not)
        why.addLayout(enlarged)
        why.addStretch(1)
        self.layers_box = QVBoxLayout()
        self.layer_rows: list[LayerRow] = []

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(self.status)
        layout.addLayout(top)
        layout.addWidget(QLabel("<b>Why this digit</b> — click a digit below to explain another one"))
        layout.addWidget(self.bars)
        layout.addLayout(why)
        layout.addWidget(QLabel("<b>Feature maps after each conv layer's ReLU</b> (one colour scale per layer)"))
        layout.addLayout(self.layers_box)
        layout.addStretch(1)
        self.setWidget(content)
        self.setWidgetResizable(True)
        self._runner = Latest(self._on_failed, parent=self)
        self.verdict: Verdict | None = None

    # --- requests ------------------------------------------------------------------------------------
    def show_drawing(self, image: np.ndarray | None, iteration: int, model, verdict: Verdict | None = None) -> None:
        """``model``: the iteration's Sequential, or None when it is unavailable; ``verdict``: the seven's, when it
        is "not a digit" the maps say they explain only a best guess."""
        self.verdict = verdict
        self.request(image, iteration, model)

    def set_digit(self, digit: int | None) -> None:
        """Explain ``digit`` instead of the top digit (None, or the top digit itself: back to the top digit)."""
        top = self.explanation and int(np.argmax(self.explanation.inside.logits))
        self.digit = None if digit == top else digit
        if self._request is None and self._current is not None:
            self.request(*self._current)

    def _compute(self, image: np.ndarray | None, iteration: int, model) -> None:
        self._current = (image, iteration, model)
        if image is None:
            self.digit = None  # a new drawing starts with its own top digit
        if image is None or model is None:
            self._clear("Draw a digit to look inside the model." if image is None else
                        f"Iteration {iteration} is unavailable.")
            return
        digit = self.digit

        def work() -> Explanation:
            from ...core.inside import explain

            return explain(model, iteration, image, digit)

        self._runner.request(work, self._show, threads=Threads.ONE_IMAGE)

    # --- drawing -------------------------------------------------------------------------------------
    def _clear(self, message: str) -> None:
        self.explanation = None
        self.status.setText(message)
        self.preview.setPixmap(mnist_pixmap(None, 112))
        self.logits.set_logits(None)
        self.bars.set_probabilities(None)
        self.why.clear()
        self.why_not.clear()
        for row in self.layer_rows:
            row.hide()
        self.shown.emit()

    def _on_failed(self, message: str) -> None:
        self.status.setText(message)
        self.failed.emit(message)

    def _show(self, explanation: Explanation) -> None:
        self.explanation = explanation
        inside = explanation.inside
        logits = inside.logits.astype(np.float64)
        probabilities = np.exp(logits - logits.max())
        note = best_guess_note(self.verdict, f"iteration {inside.iteration}") if rejected(self.verdict) else ""
        self.status.setText(f"{note}Iteration {inside.iteration}: {len(inside.layers)} conv layers.")
        self.preview.setPixmap(mnist_pixmap(inside.image, 112))
        self.logits.set_logits(inside.logits)
        self.bars.set_probabilities(probabilities / probabilities.sum())
        why, why_not = explanation.why, explanation.why_not
        self.why.show_attribution(why, inside.image, f"<b>Why {why.target}</b>")
        self.why_not.show_attribution(why_not, inside.image, f"<b>Why {why_not.target}</b>")
        while len(self.layer_rows) < len(inside.layers):
            row = LayerRow()
            row.grid.mapClicked.connect(lambda channel, r=row: self.enlarge(r.grid, channel))
            self.layer_rows.append(row)
            self.layers_box.addWidget(row)
        for i, row in enumerate(self.layer_rows):
            row.setVisible(i < len(inside.layers))
            if i < len(inside.layers):
                row.set_layer(inside.layers[i])
        self.shown.emit()

    def enlarge(self, grid: FeatureGrid, channel: int) -> None:
        layer = grid.layer
        self.enlarged.setPixmap(rgb_pixmap(sequential_rgb(layer.maps[channel], layer.peak), ENLARGED_SIDE))
        self.enlarged_caption.setText(f"conv {layer.layer.number}, {grid.describe(channel)}")
