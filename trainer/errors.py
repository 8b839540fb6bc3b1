"""Errors a user can cause. Each message says what happened and what to do."""


class MnistDesktopError(Exception):
    """Base class: the GUI shows ``str(error)`` and keeps running."""


class ConfigError(MnistDesktopError):
    """A training setting or command-line argument is outside its allowed range."""


class DataNotFoundError(MnistDesktopError):
    """The MNIST files are missing, truncated or corrupt, and could not be downloaded."""


class CheckpointError(MnistDesktopError):
    """A weights file is not a checkpoint, is damaged, or belongs to another architecture."""


class TrainingDivergedError(MnistDesktopError):
    """The loss became NaN or infinite."""


class StatisticsError(MnistDesktopError):
    """The "not a digit" statistics cannot be computed for a model (its features' covariance is singular)."""


class WriteError(MnistDesktopError):
    """A file could not be written (full disk, read-only folder, size limit); the old file is unchanged."""

    def __init__(self, path, reason: str, kept: str | None = None):
        self.path, self.reason = path, reason
        super().__init__(f"{path} could not be written ({reason}); "
                         + (kept or "what it held before is unchanged") + ".")


class UnreadableFileError(MnistDesktopError):
    """A file the project reads is missing, not a regular file, too large or unreadable."""


class ImageError(MnistDesktopError):
    """An image file cannot be read as a digit."""
