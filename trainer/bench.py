"""``mnist-train bench``: training throughput against the study's pipeline, and inference latency.

Every figure is measured in this process (or a child it starts) on this machine, printed and written as JSON.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .augment import normalize
from .data import load_mnist
from .iterations import MNIST_MEAN, MNIST_STD, build_model, get_iteration
from .training import EpochEnd, Finished, TrainConfig, train

BENCH_ITERATION = 5


def project_throughput(data_dir: str | None, device: str, batches: int) -> float:
    """Images/s of the project's training loop (iteration 5, its recipe), training part of one epoch."""
    recipe = get_iteration(BENCH_ITERATION).recipe
    config = TrainConfig(BENCH_ITERATION, epochs=1, device=device, data_dir=data_dir,
                         train_limit=batches * recipe.batch_size, report_every=batches)
    return next(e for e in train(config) if isinstance(e, EpochEnd)).images_per_s


def reference_throughput(data_dir: str | None, batches: int) -> float:
    """The study's pipeline: torchvision transforms per PIL image, DataLoader with 2 workers, plain Adam."""
    from PIL import Image
    from torch.utils.data import DataLoader, Dataset
    from torchvision import transforms

    images, labels = load_mnist("train", data_dir)
    recipe = get_iteration(BENCH_ITERATION).recipe
    pipeline = transforms.Compose([
        transforms.RandomApply([transforms.CenterCrop(22)], p=0.1), transforms.Resize((28, 28)),
        transforms.RandomRotation((-15.0, 15.0), fill=0), transforms.ToTensor(),
        transforms.Normalize((MNIST_MEAN,), (MNIST_STD,)),
    ])

    class StudyMNIST(Dataset):
        def __len__(self) -> int:
            return len(images)

        def __getitem__(self, i):
            return pipeline(Image.fromarray(images[i].numpy(), mode="L")), int(labels[i])

    loader = DataLoader(StudyMNIST(), batch_size=recipe.batch_size, shuffle=True, num_workers=2)
    torch.manual_seed(0)
    model = build_model(BENCH_ITERATION).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    seen, start = 0, None
    for step, (x, y) in enumerate(loader):
        if step == 10:  # the workers have started
            seen, start = 0, time.perf_counter()
        loss = F.nll_loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seen += len(x)
        if step == batches + 10:
            break
    return seen / (time.perf_counter() - start)


@torch.inference_mode()
def latency_ms(fn, repeats: int = 1000) -> tuple[float, float]:
    for _ in range(20):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times)), float(np.percentile(times, 95))


def inference_latencies() -> dict:
    # The app's own drawing path: its Qt-free preprocessing and predictor (no Qt is imported here).
    from mnist_desktop.core.predictor import Predictor
    from mnist_desktop.core.preprocess import to_mnist

    predictor = Predictor()
    predictor.load_all()
    drawing = np.zeros((280, 280), np.uint8)
    drawing[50:230, 120:150] = 255
    image = to_mnist(drawing)
    x = normalize(torch.from_numpy(image).view(1, 1, 28, 28))
    model = predictor.slots[BENCH_ITERATION].model
    one = latency_ms(lambda: model(x))
    seven = latency_ms(lambda: predictor.predict(to_mnist(drawing)), repeats=300)
    one_drawing = latency_ms(lambda: predictor.predict(to_mnist(drawing), [BENCH_ITERATION]), repeats=300)
    return {"one_model_forward_ms": one, "drawing_to_seven_ms": seven, "drawing_to_one_ms": one_drawing}


def app_environment(**extra: str) -> dict[str, str]:
    """The environment for a child ``python -m mnist_desktop``: offscreen unless a platform is already set."""
    return os.environ | {"QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")} | extra


def startup_seconds(repeats: int = 3) -> dict:
    """Launch the app (offscreen) and time its first paint and first prediction; best of ``repeats``."""
    runs = []
    for _ in range(repeats):
        env = app_environment(MNIST_DESKTOP_LAUNCH_TIME=repr(time.time()))
        out = subprocess.run([sys.executable, "-m", "mnist_desktop", "--measure-startup"], env=env,
                             capture_output=True, text=True, timeout=120)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {key: min(r[key] for r in runs) for key in runs[0]}


def gui_versus_cli(data_dir: str | None) -> dict:
    """A full iteration-5 run (its recipe) through this loop as ``mnist-train train`` runs it, then through
    the app's Train panel in a child process (offscreen); wall-clock seconds of each."""
    start = time.perf_counter()
    config = TrainConfig(BENCH_ITERATION, data_dir=data_dir, device="cpu")
    accuracy = next(e for e in train(config) if isinstance(e, Finished)).checkpoint["test_accuracy"]
    cli = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as user_data:  # the GUI's run goes to a throw-away per-user folder
        env = app_environment(XDG_DATA_HOME=user_data, XDG_CONFIG_HOME=user_data,
                              **({"MNIST_DATA_DIR": data_dir} if data_dir else {}))
        out = subprocess.run([sys.executable, "-m", "mnist_desktop", "--time-training", str(BENCH_ITERATION)],
                             env=env,
                             capture_output=True, text=True, timeout=3600, check=True)
    gui = json.loads(out.stdout.strip().splitlines()[-1])["gui_train_s"]
    return {"cli_train_s": cli, "cli_test_accuracy": accuracy, "gui_train_s": gui, "gui_over_cli": gui / cli}


def run_benchmarks(data_dir: str | None, json_path: Path, seconds: float = 20.0,
                   skip_reference: bool = False, gui_vs_cli: bool = False) -> dict:
    sys.stdout.reconfigure(line_buffering=True)  # DataLoader workers fork: flush before they copy the buffer
    batches = max(50, int(seconds * 100))  # about 100 batches/s on a 2-core CPU
    results: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}",
                     "iteration": BENCH_ITERATION, "batch_size": get_iteration(BENCH_ITERATION).recipe.batch_size,
                     "batches": batches}
    print(f"machine: {results['machine']}")
    results.update(inference_latencies())  # first, before training runs leave DataLoader workers and warm pools
    for key in ("one_model_forward_ms", "drawing_to_one_ms", "drawing_to_seven_ms"):
        median, p95 = results[key]
        print(f"{key:<27}: median {median:.3f} ms, p95 {p95:.3f} ms")
    results["train_cpu_images_per_s"] = project_throughput(data_dir, "cpu", batches)
    print(f"project training loop, CPU : {results['train_cpu_images_per_s']:>9,.0f} images/s")
    if torch.cuda.is_available():
        results["train_cuda_images_per_s"] = project_throughput(data_dir, "cuda", batches * 4)
        print(f"project training loop, CUDA: {results['train_cuda_images_per_s']:>9,.0f} images/s")
    if not skip_reference:
        results["reference_images_per_s"] = reference_throughput(data_dir, min(batches, 400))
        results["speedup_cpu"] = results["train_cpu_images_per_s"] / results["reference_images_per_s"]
        print(f"study's pipeline (reference): {results['reference_images_per_s']:>6,.0f} images/s")
        print(f"ratio, project / reference : {results['speedup_cpu']:>9.2f}x")
    results["startup"] = startup_seconds()
    print(f"app start, first paint      : {results['startup']['first_paint_s']:.2f} s")
    print(f"app start, first prediction : {results['startup']['first_prediction_s']:.2f} s")
    if gui_vs_cli:
        results["full_run"] = gui_versus_cli(data_dir)
        r = results["full_run"]
        print(f"full iteration-5 run, CLI loop: {r['cli_train_s']:.1f} s; Train panel: {r['gui_train_s']:.1f} s "
              f"({(r['gui_over_cli'] - 1) * 100:+.1f}%)")
    json_path.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {json_path}")
    return results
