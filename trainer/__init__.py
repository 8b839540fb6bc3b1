"""mnist-desktop's science: the seven iterations, MNIST, training, evaluation, checkpoints. No Qt here.

Names are imported on first use (PEP 562), so ``import trainer.iterations`` does not load torch: the app
paints its window before paying for ``import torch`` (about 1 s).
"""
from importlib import import_module

_HOMES = {
    "checkpoint": ["Checkpoint", "CheckpointInfo", "load_model", "read_checkpoint", "save_checkpoint"],
    "data": ["load_mnist"],
    "errors": ["CheckpointError", "ConfigError", "DataNotFoundError", "MnistDesktopError", "TrainingDivergedError"],
    "evaluation": ["Evaluation", "evaluate"],
    "iterations": ["ITERATIONS", "build_model", "count_parameters", "get_iteration"],
    "training": ["BatchProgress", "EpochEnd", "Finished", "Stopped", "TrainConfig", "train"],
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'trainer' has no attribute {name!r}")
    return getattr(import_module(f".{_MODULE_OF[name]}", __name__), name)
