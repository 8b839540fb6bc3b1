"""Where MNIST is, for the window: the folder remembered in the settings, asking for it when it is missing, and
the download. Widget-free: the Train panel shows what this emits and calls its methods.

Whatever needed MNIST (a run, the Confusion tab) hands over what to do once it is there (``need_data``'s
``resume``); choosing a folder or a finished download remembers the folder and resumes it, a cancel forgets it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QSettings, Signal

from ...core.settings import Settings, SettingsReader
from ..concurrency import Job, describe_error

# (progress(files done, files), cancelled()) -> the folder that now holds MNIST; replaced in tests
DownloadFunction = Callable[[Callable[[int, int], None], Callable[[], bool]], Path]


def download_mnist_into_user_folder(progress: Callable[[int, int], None], cancelled: Callable[[], bool]) -> Path:
    """``trainer.data.download_mnist`` (imported when needed: it imports torch), which checks ``cancelled``
    between files and gives up on a connection that stalls."""
    from trainer.data import download_mnist

    return download_mnist(progress=progress, cancelled=cancelled)


class DataLocator(QObject):
    dataMissing = Signal(str)  # MNIST is missing; the technical message. Answer with use_data_dir/download
    dataDirChanged = Signal(str)
    downloadProgress = Signal(int, int)  # files done, files
    downloadFailed = Signal(str)
    downloadCancelled = Signal()
    logged = Signal(str)  # a line for the Train tab's log

    def __init__(self, settings: QSettings, parent: QObject | None = None):
        super().__init__(parent)
        self.settings = settings
        self.download_function: DownloadFunction = download_mnist_into_user_folder
        self._resume: Callable[[str], None] | None = None  # what waits for MNIST, given the folder
        self._download: Job | None = None

    @property
    def data_dir(self) -> str:
        """The folder chosen for MNIST, or "" (then $MNIST_DATA_DIR, then the per-user data folder)."""
        return SettingsReader(self.settings.value, self.settings.contains).text(Settings.DATA_DIR)

    def need_data(self, message: str, resume: Callable[[str], None] | None = None) -> None:
        """Something needs MNIST and did not find it: ask; once it is there, ``dataDirChanged`` says where, and
        ``resume(folder)`` is called."""
        self._resume = resume
        self.dataMissing.emit(message)

    def use_data_dir(self, folder: str) -> None:
        """Remember the folder that holds MNIST and resume what waited for it."""
        self.settings.setValue(Settings.DATA_DIR, folder)
        self.dataDirChanged.emit(folder)
        resume, self._resume = self._resume, None
        if resume is not None:
            resume(folder)

    def forget_data_request(self) -> None:
        """The person cancelled: nothing resumes."""
        self._resume = None

    def download(self) -> None:
        """Download MNIST off the GUI thread; on success, use it and resume."""
        download = self.download_function
        job = self._download = Job(lambda state: download(lambda *done: state.report(done), state.cancelled),
                                   owner=self)
        job.yielded.connect(lambda done: self.downloadProgress.emit(*done))
        job.returned.connect(self._on_downloaded)
        job.errored.connect(lambda error: self._on_download_failed(job, describe_error(error)))
        self.logged.emit("downloading MNIST…")
        job.start()

    def cancel_download(self) -> None:
        if self._download is not None:
            self._download.quit()

    def shutdown(self) -> None:
        """Stop the download; nothing it still sends arrives (the window is closing)."""
        if self._download is not None:
            self._download.discard()
            self._download = None

    def _on_downloaded(self, folder: Path) -> None:
        self._download = None
        self.logged.emit(f"downloaded MNIST into {folder}")
        self.use_data_dir(str(folder))

    def _on_download_failed(self, job: Job, message: str) -> None:
        self._download = None
        if job.state.cancelled():
            self.logged.emit("download cancelled")
            self._resume = None
            self.downloadCancelled.emit()
        else:
            self.logged.emit(f"download failed: {message}")
            self.downloadFailed.emit(message)
