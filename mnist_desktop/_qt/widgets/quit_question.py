"""Quit while training? A question that stays true: it says what trains and what quitting loses while the run
waits, shows what the run is doing meanwhile (saving, asking about the new model), and once the run has ended
says how it ended and asks only whether to quit."""
from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


class QuitQuestion(QMessageBox):
    def __init__(self, doing: str, lost: str, parent: QWidget | None = None):
        super().__init__(QMessageBox.Icon.Question, "Quit while training?", "", parent=parent)
        self.quit_button = self.addButton("Stop the run and quit", QMessageBox.ButtonRole.AcceptRole)
        self.keep_button = self.addButton("Keep training", QMessageBox.ButtonRole.RejectRole)
        self.setDefaultButton(self.keep_button)
        self.setEscapeButton(self.keep_button)
        self.if_quit = f"Stop the run and quit: {lost[:1].lower()}{lost[1:]}"
        self.setText(f"{doing} It waits at its next batch while you decide.")
        self.setInformativeText(self.if_quit)
        self.status = ""  # the run's latest status line
        self.ended = False

    def show_status(self, status: str) -> None:
        """What the run is doing now, when it does more than train (saving, asking about the new model)."""
        self.status = status
        if not self.ended:
            self.setInformativeText(f"Now: {status}\n{self.if_quit}")

    def run_ended(self, busy: bool = False) -> None:
        """The run ended while asked (``busy`` False): say how, and ask only whether to quit."""
        if busy:
            return
        self.ended = True
        self.setWindowTitle("Quit?")
        self.setText(f"The run has ended. {self.status}")
        self.setInformativeText("Nothing is training now.")
        self.quit_button.setText("Quit")
        self.keep_button.setText("Don't quit")

    def quits(self) -> bool:
        return self.clickedButton() is self.quit_button
