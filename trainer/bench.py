"""``mnist-train bench``: training throughput against the study's pipeline.

Every figure is measured in this process on this machine, printed and written as JSON. Qt-free: the app's
own figures (inference latency, drawing, start-up, a run through the Train panel) are measured by
``mnist-desktop bench`` (mnist_desktop/bench.py).
"""
from __future__ import annotations

import os
import platform
import sys
import time
from multiprocessing import get_context
from pathlib import Path

import torch
import torch.nn.functional as F

from .data import load_mnist
from .files import write_json
from .iterations import MNIST_MEAN, MNIST_STD, MNIST_TRAIN_IMAGES, build_model, get_iteration
from .training import EpochEnd, TrainConfig, train

BENCH_ITERATION = 5


def throughput_config(data_dir: str | None, device: str, batches: int) -> TrainConfig:
    """One epoch of iteration 5 under its recipe on the first ``batches`` batches (at most the 60k images)."""
    recipe = get_iteration(BENCH_ITERATION).recipe
    return TrainConfig(BENCH_ITERATION, epochs=1, device=device, data_dir=data_dir,
                       train_limit=min(batches * recipe.batch_size, MNIST_TRAIN_IMAGES), report_every=batches)


def project_throughput(data_dir: str | None, device: str, batches: int) -> float:
    """Images/s of the project's training loop (iteration 5, its recipe), training part of one epoch."""
    config = throughput_config(data_dir, device, batches)
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


def _throughput_in_child(data_dir: str | None, batches: int, threads: int, results) -> None:
    torch.set_num_threads(threads)
    results.put(project_throughput(data_dir, "cpu", batches))


def parallel_throughput(data_dir: str | None, batches: int, jobs: int) -> float:
    """Images/s of ``jobs`` processes training at once with cpu_count // jobs threads each, as
    ``mnist-train study --jobs`` runs its pairs (each process started fresh, like the study's)."""
    context = get_context("spawn")
    results = context.Queue()
    threads = max(1, (os.cpu_count() or 1) // jobs)
    workers = [context.Process(target=_throughput_in_child, args=(data_dir, batches, threads, results))
               for _ in range(jobs)]
    for worker in workers:
        worker.start()
    total = sum(results.get() for _ in workers)
    for worker in workers:
        worker.join()
    return total


def run_benchmarks(data_dir: str | None, json_path: Path, seconds: float = 20.0,
                   skip_reference: bool = False) -> dict:
    sys.stdout.reconfigure(line_buffering=True)  # DataLoader workers fork: flush before they copy the buffer
    batches = max(50, int(seconds * 100))  # about 100 batches/s on a 2-core CPU
    results: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}",
                     "iteration": BENCH_ITERATION, "batch_size": get_iteration(BENCH_ITERATION).recipe.batch_size,
                     "batches": batches}
    print(f"machine: {results['machine']}")
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
    jobs = os.cpu_count() or 1
    if jobs > 1:  # what --jobs of mnist-train study defaults to, and why
        one = parallel_throughput(data_dir, batches, 1)
        many = parallel_throughput(data_dir, batches, jobs)
        results["study_jobs"] = {"one_process_images_per_s": one, f"{jobs}_processes_images_per_s": many,
                                 "ratio": many / one}
        print(f"study pairs, 1 process x {jobs} threads: {one:>7,.0f} images/s; {jobs} processes x 1 thread: "
              f"{many:,.0f} images/s; ratio {many / one:.2f}x")
    write_json(json_path, results)
    print(f"wrote {json_path}")
    return results
