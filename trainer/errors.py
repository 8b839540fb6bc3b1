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
