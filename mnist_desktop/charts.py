"""A line chart that keeps the run before the current one, dashed, for comparison."""
from __future__ import annotations

from PySide6.QtCharts import QChart, QChartView, QLineSeries, QValueAxis
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPainter, QPen


class RunChart(QChartView):
    def __init__(self, title: str, y_title: str, names: list[str]):
        super().__init__()
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumHeight(240)
        chart = QChart()
        chart.setTitle(title)
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        self.setChart(chart)
        self.x_axis, self.y_axis = QValueAxis(), QValueAxis()
        self.x_axis.setTitleText("epoch")
        self.x_axis.setLabelFormat("%.0f")
        self.x_axis.setTickType(QValueAxis.TickType.TicksDynamic)  # a tick at every whole epoch
        self.x_axis.setTickAnchor(0)
        self.x_axis.setTickInterval(1)
        self.y_axis.setTitleText(y_title)
        self.y_axis.setLabelFormat("%.3g")
        chart.legend().setVisible(len(names) > 1)
        chart.addAxis(self.x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(self.y_axis, Qt.AlignmentFlag.AlignLeft)
        self.names = names
        self.current: dict[str, QLineSeries] = {}
        self.previous: dict[str, QLineSeries] = {}
        self._add_series(self.current, "")

    def _add_series(self, into: dict[str, QLineSeries], suffix: str) -> None:
        for name in self.names:
            series = QLineSeries()
            series.setName(name + suffix)
            self.chart().addSeries(series)
            series.attachAxis(self.x_axis)
            series.attachAxis(self.y_axis)
            into[name] = series

    def new_run(self) -> None:
        """The current curves become the previous run's (dashed); the run before that goes."""
        if not any(series.count() for series in self.current.values()):
            return  # nothing drawn yet: keep the current, empty curves
        for series in self.previous.values():
            self.chart().removeSeries(series)
        self.previous = {}
        for name, series in self.current.items():
            series.setName(f"{name} (before)")
            pen = QPen(series.pen())
            pen.setStyle(Qt.PenStyle.DashLine)
            series.setPen(pen)
            self.previous[name] = series
        self.current = {}
        self._add_series(self.current, "")
        self._fit()

    def append(self, name: str, points: list[QPointF]) -> None:
        if points:
            self.current[name].append(points)
            self._fit()

    def point_count(self, name: str) -> int:
        return self.current[name].count()

    def _fit(self) -> None:
        points = [p for s in (*self.current.values(), *self.previous.values()) for p in s.points()]
        if not points:
            return
        xs, ys = [p.x() for p in points], [p.y() for p in points]
        self.x_axis.setRange(0 if min(xs) < 1 else 1, max(max(xs), 1.0))
        low, high = min(ys), max(ys)
        margin = (high - low) * 0.05 or abs(high) * 0.05 or 0.01
        # Losses, accuracies and rates are never negative: keep the axis from dipping below zero.
        self.y_axis.setRange(max(low - margin, 0.0) if low >= 0 else low - margin, high + margin)
