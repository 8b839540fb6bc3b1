"""The comparison view: the drawing through all seven, a table, learning curves, confusion and mistakes."""
from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCharts import QAreaSeries, QChart, QLineSeries, QValueAxis
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import (QAbstractItemView, QFrame, QGridLayout, QHBoxLayout, QHeaderView, QLabel,
                               QListWidget, QListWidgetItem, QScrollArea, QSizePolicy, QSplitter, QTableWidget,
                               QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from trainer.errors import DataNotFoundError
from trainer.iterations import ITERATIONS, MODELS, describe_layers, model_title
from trainer.report import mean_and_spread

from ...core.threads import Threads
from ...core.verdict import Verdict
from ..concurrency import Latest, describe_error
from ..widgets.attribution import MistakeExplanation, WhereTheyLook
from ..widgets.charts import LegendChart, iteration_color, set_epoch_ticks
from ..widgets.confusion import ConfusionTable
from ..widgets.iteration_picker import IterationPicker
from ..widgets.panels import ProbabilityBars, digit_label, mnist_pixmap, not_a_digit_html, rejected

if TYPE_CHECKING:
    from ...core.predictor import Predictor

PREDICTED_ROLE = Qt.ItemDataRole.UserRole + 1  # a gallery item's predicted digit (UserRole: its test index)
GALLERY_LIMIT = 200  # misclassified digits shown per iteration
CARDS_PER_ROW = 4
DISAGREE_STYLE = "QFrame#result { border: 2px solid #d35400; border-radius: 6px; }"
AGREE_STYLE = "QFrame#result { border: 1px solid palette(mid); border-radius: 6px; }"


class MiniResult(QFrame):
    def __init__(self, number: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("result")
        self.title = QLabel(model_title(number))
        self.digit = digit_label(22)
        self.confidence = QLabel("")
        self.confidence.setWordWrap(True)  # "not a digit? (best guess 4, 57%)" takes two lines, not a wider card
        self.bars = ProbabilityBars(compact=True)
        # Equal cards whatever their texts say: their width comes from the grid's columns, not from their hints.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        top = QHBoxLayout()
        top.addWidget(self.digit)
        top.addWidget(self.confidence, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)  # the bars' digits need the width more than the frame does
        layout.addWidget(self.title)
        layout.addLayout(top)
        layout.addWidget(self.bars)
        self.setStyleSheet(AGREE_STYLE)

    def show_result(self, probabilities: np.ndarray | None, disagrees: bool, note: str = "",
                    verdict: Verdict | None = None) -> None:
        """``verdict``: this model's own, on its own statistics."""
        self.bars.set_probabilities(probabilities, is_answer=not rejected(verdict))
        self.confidence.setToolTip(verdict.reason if rejected(verdict) else "")
        if probabilities is None:
            self.digit.setText("–")
            self.confidence.setText(note)
        elif rejected(verdict):
            self.digit.setText("?")
            self.confidence.setText(f"not a digit? (best guess {verdict.guess}, {verdict.confidence * 100:.0f}%)")
        else:
            top = int(np.argmax(probabilities))
            self.digit.setText(str(top))
            self.confidence.setText(f"{probabilities[top] * 100:.1f}%" + ("  (disagrees)" if disagrees else ""))
        self.setStyleSheet(DISAGREE_STYLE if disagrees else AGREE_STYLE)


class CompareView(QWidget):
    digitChosen = Signal(object)  # a uint8 28x28 MNIST test image, to load onto the canvas
    evaluated = Signal()  # the confusion matrix and gallery show a finished evaluation
    dataMissing = Signal(str)  # MNIST is needed for the confusion matrix; the technical message

    # Headers of up to three lines and short cells: the columns are as wide as their figures, so the table fits beside the
    # canvas without scrolling sideways from a 1024-pixel window on; the layers and the seeds are in tooltips.
    TABLE_COLUMNS = ["Iteration", "Params", "Epochs", "Test\naccuracy\nin use", "Test accuracy\nover seeds\n(mean ± std)",
                     "Study's\nfigure\n(train set)", "CPU\nlatency\n/ image", "Weights"]

    def __init__(self, shipped_metrics: dict[int, dict], parent: QWidget | None = None):
        super().__init__(parent)
        self.shipped_metrics = shipped_metrics  # weights/metrics.json, by iteration
        self.study: dict = {}  # study.json of a multi-seed study (trainer.study), once set_study() gave one
        self.predictor: Predictor | None = None
        self._evaluations: dict[tuple, object] = {}  # (iteration, weights path) -> Evaluation
        self._test_images = self._test_labels = None  # the 10k test set, once evaluated
        self.data_dir: str | None = None  # the folder the person chose for MNIST, if any

        # Side by side: the seven results and the table.
        self.agreement = QLabel("Draw a digit to see all seven at once.")
        self.results = {n: MiniResult(n) for n in MODELS}  # the seven, and the model made for drawings
        grid = QGridLayout()
        for i, result in enumerate(self.results.values()):
            grid.addWidget(result, i // CARDS_PER_ROW, i % CARDS_PER_ROW)
        for column in range(CARDS_PER_ROW):
            grid.setColumnStretch(column, 1)
        self.table = QTableWidget(len(MODELS), len(self.TABLE_COLUMNS))
        self.table.setHorizontalHeaderLabels(self.TABLE_COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)  # two-line names
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(self.agreement)
        side_layout.addLayout(grid)
        side_layout.addWidget(self.table, 1)

        # Learning curves: test accuracy per epoch from each checkpoint's history.
        self.chart = QChart()
        self.chart.setTitle("Test accuracy per epoch (10k test set)")
        self.chart_view = LegendChart(self.chart)

        # Confusion matrix and mistakes of one iteration.
        self.mistakes_picker = IterationPicker()
        self.mistakes_status = QLabel("")
        self.mistakes_status.setWordWrap(True)
        self.confusion = ConfusionTable()
        self.gallery = QListWidget()
        self.gallery.setViewMode(QListWidget.ViewMode.IconMode)
        self.gallery.setIconSize(QSize(56, 56))
        self.gallery.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.gallery.setToolTip("Test digits this iteration gets wrong; click one to load it onto the canvas")
        self.gallery.itemClicked.connect(self._gallery_clicked)
        self.mistake_maps = MistakeExplanation()
        self.gallery.currentItemChanged.connect(self._explain_mistake)
        mistakes = self.mistakes = QWidget()
        mistakes_layout = QVBoxLayout(mistakes)
        mistakes_layout.addWidget(self.mistakes_picker)
        mistakes_layout.addWidget(self.mistakes_status)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.confusion)
        split.addWidget(self.gallery)
        split.addWidget(self.mistake_maps)
        mistakes_layout.addWidget(split, 1)
        self.mistakes_picker.currentIndexChanged.connect(self.refresh_mistakes)

        self.tabs = QTabWidget()
        self.tabs.addTab(side, "Side by side")
        self.tabs.addTab(self.chart_view, "Learning curves")
        self.tabs.addTab(mistakes, "Mistakes")  # short: the five tabs fit a 1024-pixel window
        self.tabs.setTabToolTip(self.tabs.indexOf(mistakes), "Each iteration's confusion matrix and the test digits "
                                "it gets wrong")
        self.where = WhereTheyLook()
        self.tabs.addTab(self.where, "Where they look")
        self.tabs.currentChanged.connect(lambda _: self.refresh_mistakes())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        # Scrolls where the window is shorter than the pages (1920×1080 at a scale factor of 2 offers 540 units).
        scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        scroll.setWidget(self.tabs)
        layout.addWidget(scroll)
        # The latest evaluation asked for (the iteration chosen now) is the one shown.
        self._evaluation = Latest(self.mistakes_status.setText, parent=self)

    def add_tab(self, page: QWidget, title: str) -> None:
        """One more page beside the comparison's own (the window adds Your drawings' scores)."""
        self.tabs.addTab(page, title)

    # --- results ---------------------------------------------------------------------------------
    def show_results(self, image: np.ndarray | None, probabilities: dict[int, np.ndarray],
                     verdicts: dict[int, Verdict] | None = None, together: Verdict | None = None) -> None:
        """``verdicts``: each model's own; ``together``: the seven's, which heads the cards when it is "not a
        digit" (the seven may all guess 4 for a plus, and still not recognise it)."""
        self.where.show_drawing(image, self.predictor, together)  # works only while its tab is in view
        tops = {n: int(np.argmax(p)) for n, p in probabilities.items()}
        votes = Counter(digit for n, digit in tops.items() if n in ITERATIONS)  # the seven's agreement
        majority = votes.most_common(1)[0][0] if votes else None
        for n, result in self.results.items():
            slot = self.predictor.slots.get(n) if self.predictor else None
            note = "unavailable" if slot and slot.error else ("no digit" if image is None else "")
            result.show_result(probabilities.get(n), n in tops and tops[n] != majority, note, (verdicts or {}).get(n))
        if not votes:
            self.agreement.setText("Draw a digit to see all seven at once." if image is None else "No model ready.")
        elif rejected(together):
            self.agreement.setText(f"{not_a_digit_html(together, best_guess=False)} Best guesses: " + ", ".join(
                f"{digit} from {count}" for digit, count in votes.most_common()))
        elif len(votes) == 1:
            self.agreement.setText(f"All {sum(votes.values())} agree: <b>{majority}</b>")
        else:
            self.agreement.setText("<b style='color:#d35400'>They disagree</b>: " + ", ".join(
                f"{count} say {digit}" for digit, count in votes.most_common()))

    # --- predictor-dependent views ---------------------------------------------------------------
    def set_predictor(self, predictor: Predictor) -> None:
        self.predictor = predictor
        self.fill_table()
        self._fill_chart()
        self.refresh_mistakes()

    def fill_table(self) -> None:
        for row, (n, it) in enumerate(MODELS.items()):
            slot = self.predictor.slots.get(n)
            if slot is None:  # the model made for drawings, when the predictor was made without it
                continue
            shipped = self.shipped_metrics.get(n, {}).get("test_accuracy")
            accuracy = (slot.info.test_accuracy if slot.info else None) if slot.retrained or shipped is None else shipped
            seeds = self.study.get("iterations", {}).get(str(n))
            values = [str(n) if n in ITERATIONS else model_title(n).replace(" for ", " for\n"),
                      f"{it.params:,}", str(it.recipe.epochs),
                      "unavailable" if slot.error else (f"{accuracy:.2f}%" if accuracy is not None else "?"),
                      mean_and_spread(seeds) if seeds else "not run",
                      f"{it.study_accuracy:g}%" if it.study_accuracy is not None else "–",
                      f"{slot.latency_ms:.3f} ms" if slot.latency_ms is not None else "–",
                      "retrained" if slot.retrained else "shipped"]
            tip = slot.error or f"{model_title(n)}: {describe_layers(n)}" + (
                f"\nover {len(seeds['seeds'])} seeds" if seeds else "")
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(tip)
                self.table.setItem(row, col, item)

    def set_study(self, study: dict) -> None:
        """Show a multi-seed study: its mean ± std in the table, its mean curves with bands in the chart."""
        self.study = study
        if self.predictor is not None:
            self.fill_table()
            self._fill_chart()

    def _study_curves(self, x_axis: QValueAxis, y_axis: QValueAxis) -> tuple[list[float], int]:
        """Each iteration's mean test-accuracy curve over the study's seeds, with a ± 1 std band."""
        values, epochs = [], 1
        for n, entry in sorted(self.study.get("iterations", {}).items(), key=lambda kv: int(kv[0])):
            mean, std = entry["curve_mean"], [s or 0.0 for s in entry["curve_std"]]
            line, upper, lower = QLineSeries(), QLineSeries(), QLineSeries()
            for epoch, (m, s) in enumerate(zip(mean, std), start=1):
                line.append(epoch, m)
                upper.append(epoch, m + s)
                lower.append(epoch, m - s)
                values.append(m - s)
            band = QAreaSeries(upper, lower)
            upper.setParent(band)  # QAreaSeries does not own its edges: without a parent Python deletes them
            lower.setParent(band)
            color = iteration_color(int(n))
            band.setPen(Qt.PenStyle.NoPen)
            band.setColor(QColor(color.red(), color.green(), color.blue(), 50))
            line.setColor(color)
            line.setPointsVisible(len(mean) == 1)
            line.setName(f"{n} ({len(entry['seeds'])} seeds)")
            for series in (band, line):
                self.chart.addSeries(series)
                series.attachAxis(x_axis)
                series.attachAxis(y_axis)
            epochs = max(epochs, len(mean))
        return values, epochs

    def _fill_chart(self) -> None:
        self.chart.removeAllSeries()
        for axis in self.chart.axes():
            self.chart.removeAxis(axis)
        x_axis, y_axis = QValueAxis(), QValueAxis()
        x_axis.setTitleText("epoch")
        y_axis.setTitleText("test accuracy (%)")
        self.chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        self.chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
        if self.study.get("iterations"):
            self.chart.setTitle("Test accuracy per epoch (10k test set): mean over the study's seeds, band ± 1 std")
            values, epochs = self._study_curves(x_axis, y_axis)
            set_epoch_ticks(x_axis, 0.5, epochs + 0.5)
            y_axis.setRange(np.floor(min(values)), 100)
            self._show_legend()
            return
        self.chart.setTitle("Test accuracy per epoch (10k test set), weights in use")
        values, epochs = [], 1
        for n, slot in self.predictor.slots.items():
            history = slot.info.history if slot.info else []
            if not history:
                continue
            series = QLineSeries()
            series.setColor(iteration_color(n))
            series.setPointsVisible(len(history) == 1)  # a one-epoch curve is one point: show it
            series.setName(f"{n}{' (retrained)' if slot.retrained else ''}")
            for entry in history:
                series.append(entry["epoch"], entry["test_accuracy"])
                values.append(entry["test_accuracy"])
            epochs = max(epochs, len(history))
            self.chart.addSeries(series)
            series.attachAxis(x_axis)
            series.attachAxis(y_axis)
        set_epoch_ticks(x_axis, 0.5, epochs + 0.5)
        if values:
            y_axis.setRange(np.floor(min(values)), 100)
        self._show_legend()

    def _show_legend(self) -> None:
        """The curves by name (a study's bands go unnamed: "± 1 std" is in the title)."""
        self.chart_view.legend.show_series(s for s in self.chart.series() if isinstance(s, QLineSeries))

    # --- confusion and mistakes ------------------------------------------------------------------
    def refresh_mistakes(self) -> None:
        """Evaluate the chosen iteration on the test set (in the background, once per weights file)."""
        if self.predictor is None or self.tabs.currentWidget() is not self.mistakes:
            return
        n = self.mistakes_picker.number()
        slot = self.predictor.slots[n]
        if slot.error:
            self._show_mistakes(None, f"Iteration {n} is unavailable: {slot.error}")
            return
        key = (n, str(slot.path))
        if key in self._evaluations:
            self._show_mistakes(self._evaluations[key])
            return
        self.mistakes_status.setText(f"Evaluating iteration {n} on the 10k test images…")

        def work():
            from trainer.data import load_mnist
            from trainer.evaluation import evaluate

            images, labels = load_mnist("test", data_dir)
            return key, images, labels, evaluate(slot.model, images, labels)

        data_dir = self.data_dir
        self._evaluation.request(work, self._on_evaluated, self._on_evaluation_error, Threads.MANY_IMAGES)

    def _on_evaluated(self, result) -> None:
        key, self._test_images, self._test_labels, evaluation = result
        self._evaluations[key] = evaluation
        self._show_mistakes(evaluation)
        self.evaluated.emit()

    def _on_evaluation_error(self, error: BaseException) -> None:
        self._show_mistakes(None, describe_error(error))
        if isinstance(error, DataNotFoundError):
            self.dataMissing.emit(str(error))

    def set_data_dir(self, folder: str) -> None:
        """MNIST is in ``folder`` now: evaluate again if the confusion matrix waits for it."""
        self.data_dir = folder or None
        self.refresh_mistakes()

    def _show_mistakes(self, evaluation, message: str = "") -> None:
        self.gallery.clear()
        if evaluation is None:
            self.mistakes_status.setText(message)
            self.confusion.show_confusion(None)
            return
        wrong = evaluation.misclassified
        self.mistakes_status.setText(
            f"{evaluation.accuracy:.2f}% of the 10k test images right; {len(wrong)} wrong"
            + (f" (the first {GALLERY_LIMIT} shown)" if len(wrong) > GALLERY_LIMIT else "") + ".")
        self.confusion.show_confusion(evaluation.confusion)
        for index in wrong[:GALLERY_LIMIT]:
            image = self._test_images[index].numpy()
            item = QListWidgetItem(QIcon(mnist_pixmap(image / 255.0, 56)),
                                   f"{int(self._test_labels[index])} → {evaluation.predictions[index]}")
            item.setToolTip(f"test image {index}: a {int(self._test_labels[index])}, "
                            f"predicted {evaluation.predictions[index]}")
            item.setData(Qt.ItemDataRole.UserRole, index)
            item.setData(PREDICTED_ROLE, int(evaluation.predictions[index]))
            self.gallery.addItem(item)

    def _explain_mistake(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            index = item.data(Qt.ItemDataRole.UserRole)
            self.mistake_maps.show_mistake(self.predictor.slots[self.mistakes_picker.number()].model,
                                           self._test_images[index].numpy() / np.float32(255),
                                           int(self._test_labels[index]), item.data(PREDICTED_ROLE))

    def _gallery_clicked(self, item: QListWidgetItem) -> None:
        self.digitChosen.emit(self._test_images[item.data(Qt.ItemDataRole.UserRole)].numpy().copy())
