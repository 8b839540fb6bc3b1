"""A 10x10 confusion table: rows the true digit, columns the answer; the diagonal blue, mistakes orange by
how many."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget


class ConfusionTable(QTableWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(10, 10, parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setVerticalHeaderLabels([f"true {d}" for d in range(10)])
        self.setHorizontalHeaderLabels([f"→{d}" for d in range(10)])
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)

    def show_confusion(self, confusion: list[list[int]] | None) -> None:
        """``confusion[true][answer]`` counts; None empties the table."""
        self.clearContents()
        if confusion is None:
            return
        peak = max(max(row[c] for c in range(10) if c != r) for r, row in enumerate(confusion)) or 1
        for r, row in enumerate(confusion):
            for c, count in enumerate(row):
                item = QTableWidgetItem(str(count))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if r == c:
                    item.setBackground(QBrush(QColor(46, 134, 193, 90)))
                elif count:
                    item.setBackground(QBrush(QColor(211, 84, 0, int(40 + 200 * count / peak))))
                self.setItem(r, c, item)
