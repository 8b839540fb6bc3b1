"""Small statistics for the multi-seed study: mean ± sample std, a 95% interval, Welch's t-test, Holm.

NumPy only (no SciPy): Student's t distribution is integrated numerically, which is exact to ~1e-9 for the
handful of degrees of freedom a study has.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def _t_density(x: np.ndarray, df: float) -> np.ndarray:
    log_norm = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    return np.exp(log_norm - (df + 1) / 2 * np.log1p(x * x / df))


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom (Simpson's rule from 0 to |t|)."""
    x = np.linspace(0.0, abs(t), 20_001)
    y = _t_density(x, df)
    h = x[1] - x[0]
    half = h / 3 * (y[0] + y[-1] + 4 * y[1:-1:2].sum() + 2 * y[2:-1:2].sum())
    return 0.5 + math.copysign(half, t)


def t_quantile(p: float, df: float) -> float:
    """The t with ``t_cdf(t, df) == p`` (bisection)."""
    low, high = -1e3, 1e3
    for _ in range(100):
        mid = (low + high) / 2
        low, high = (mid, high) if t_cdf(mid, df) < p else (low, mid)
    return (low + high) / 2


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float
    std: float | None  # sample standard deviation (n - 1); None for a single value
    ci95: tuple[float, float] | None  # mean ± t(0.975, n - 1) · std / √n


def summarize(values: list[float]) -> Summary:
    a = np.asarray(values, dtype=float)
    mean = float(a.mean())
    if len(a) < 2:
        return Summary(len(a), mean, None, None)
    std = float(a.std(ddof=1))
    half = t_quantile(0.975, len(a) - 1) * std / math.sqrt(len(a))
    return Summary(len(a), mean, std, (mean - half, mean + half))


def welch_p_value(a: list[float], b: list[float]) -> float:
    """Two-sided p-value of Welch's t-test (unequal variances) that the two means are equal."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    if va + vb == 0:
        return 1.0 if a.mean() == b.mean() else 0.0
    t = (a.mean() - b.mean()) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    return 2 * (1 - t_cdf(abs(t), df))


def holm(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (same order): controls the chance of any false 'different'."""
    order = np.argsort(p_values)
    adjusted = np.empty(len(p_values))
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted.tolist()
