"""Charts with a legend that never cuts a name short; a line chart that keeps the run before the current one,
dashed, for comparison; the iterations' colours."""
from __future__ import annotations

import html
import math
from typing import Iterable

from PySide6.QtCharts import QChart, QChartView, QLineSeries, QValueAxis
from PySide6.QtCore import QPointF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

MAX_EPOCH_TICKS = 10
# One distinct colour per iteration (the first seven of Matplotlib's "tab10", readable on light and dark).
ITERATION_COLORS = {1: "#1f77b4", 2: "#ff7f0e", 3: "#2ca02c", 4: "#d62728", 5: "#9467bd", 6: "#8c564b", 7: "#e377c2",
                    8: "#17becf"}  # 8: the model made for drawings


def iteration_color(iteration: int) -> QColor:
    return QColor(ITERATION_COLORS[iteration])


def set_epoch_ticks(axis: QValueAxis, low: float, high: float) -> None:
    """Ticks on whole epochs only, at most about ten of them."""
    axis.setRange(low, high)
    axis.setLabelFormat("%.0f")
    axis.setTickType(QValueAxis.TickType.TicksDynamic)
    axis.setTickAnchor(0)
    axis.setTickInterval(max(1, math.ceil((high - low) / MAX_EPOCH_TICKS)))


class ChartLegend(QLabel):
    """A chart's legend as a label under it, which wraps onto another line where the names do not fit on one:
    Qt's own legend cuts them short instead ("train (be…", "1 (5 se…")."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setContentsMargins(8, 0, 8, 4)
        self.names: list[str] = []  # the lines listed, in order

    def show_series(self, series: Iterable[QLineSeries]) -> None:
        """List these lines, each with a sample of its colour and dash; no lines, no legend."""
        entries, self.names = [], []
        for line in series:
            sample = "╍╍" if line.pen().style() == Qt.PenStyle.DashLine else "━━"
            name = html.escape(line.name()).replace(" ", "&nbsp;")  # lines break between names, not inside one
            entries.append(f"<span style='color:{line.color().name()}'>{sample}</span>&nbsp;{name}")
            self.names.append(line.name())
        self.setText("&nbsp;&nbsp; ".join(entries))
        self.setVisible(bool(entries))


class LegendChart(QWidget):
    """A chart view with its ``ChartLegend`` under it (the chart's own legend hidden)."""

    def __init__(self, chart: QChart, parent: QWidget | None = None):
        super().__init__(parent)
        chart.legend().hide()
        self.view = QChartView(chart)
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.legend = ChartLegend()
        self.legend.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.legend)

    def chart(self) -> QChart:
        return self.view.chart()


class RunChart(LegendChart):
    """``per_epoch`` charts get one point per epoch, drawn as markers so that a single epoch shows."""

    def __init__(self, title: str, y_title: str, names: list[str], per_epoch: bool = True):
        chart = QChart()
        chart.setTitle(title)
        super().__init__(chart)
        self.setMinimumHeight(200)  # two rows of charts fit the Train tab of a 1024×700 window
        self.per_epoch = per_epoch
        self.x_axis, self.y_axis = QValueAxis(), QValueAxis()
        self.x_axis.setTitleText("epoch")
        self.y_axis.setTitleText(y_title)
        self.y_axis.setLabelFormat("%.3g")
        self.with_legend = len(names) > 1  # one line needs none: the title says what it is
        chart.addAxis(self.x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(self.y_axis, Qt.AlignmentFlag.AlignLeft)
        self.names = names
        self.epochs = 1  # of the current run, for the x axis
        self.current: dict[str, QLineSeries] = {}
        self.previous: dict[str, QLineSeries] = {}
        self._previous_epochs = 0
        self._add_series(self.current, "")
        self._fit_x()
        self._show_legend()

    def sizeHint(self) -> QSize:
        """A chart view's own hint is its scene's size, which follows the view: it only grows. The Train tab
        scrolls to fit its preferred sizes, so ask for the least a chart needs and let the layout stretch it."""
        return QSize(320, self.minimumHeight())

    def _add_series(self, into: dict[str, QLineSeries], suffix: str) -> None:
        for name in self.names:
            series = QLineSeries()
            series.setName(name + suffix)
            series.setPointsVisible(self.per_epoch)
            self.chart().addSeries(series)
            series.attachAxis(self.x_axis)
            series.attachAxis(self.y_axis)
            into[name] = series

    def new_run(self, epochs: int, keep_previous: bool = True) -> None:
        """The current curves become the previous run's (dashed), or go with ``keep_previous`` False; the run
        before that goes."""
        if not keep_previous or any(series.count() for series in self.current.values()):
            for series in self.previous.values():
                self.chart().removeSeries(series)
            self.previous, self._previous_epochs = {}, 0
        if not keep_previous:
            for series in self.current.values():
                series.clear()
        elif any(series.count() for series in self.current.values()):
            for name, series in self.current.items():
                series.setName(f"{name} (before)")
                pen = QPen(series.pen())
                pen.setStyle(Qt.PenStyle.DashLine)
                series.setPen(pen)
                self.previous[name] = series
            self._previous_epochs = self.epochs
            self.current = {}
            self._add_series(self.current, "")
        self.epochs = epochs
        self._fit_x()
        self._fit_y()
        self._show_legend()

    def append(self, name: str, points: list[QPointF]) -> None:
        if points:
            self.current[name].append(points)
            self._fit_y()
            self._show_legend()

    def _show_legend(self) -> None:
        """Only lines that have points are in the legend (the held-out drawings' only in a fine-tune)."""
        if self.with_legend:
            self.legend.show_series(s for s in (*self.current.values(), *self.previous.values()) if s.count())

    def point_count(self, name: str) -> int:
        return self.current[name].count()

    def _fit_x(self) -> None:
        """The whole run's epochs from the start, so the curve grows into a fixed frame."""
        last = max(self.epochs, self._previous_epochs, 1)
        if self.per_epoch:  # points sit on whole epochs: half an epoch of room on each side
            set_epoch_ticks(self.x_axis, 0.5, last + 0.5)
        else:
            set_epoch_ticks(self.x_axis, 0, last)

    def _fit_y(self) -> None:
        ys = [p.y() for s in (*self.current.values(), *self.previous.values()) for p in s.points()]
        if not ys:
            return
        low, high = min(ys), max(ys)
        margin = (high - low) * 0.05 or abs(high) * 0.05 or 0.01
        # Losses, accuracies and rates are never negative: keep the axis from dipping below zero.
        self.y_axis.setRange(max(low - margin, 0.0) if low >= 0 else low - margin, high + margin)
