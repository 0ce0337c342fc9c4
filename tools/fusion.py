"""The reference's six fusion rules, three ways: as the reference computes them, in a numerically stable float64 form
(what the service implements), and exactly (mpmath, for fixtures).

x is the vector of the detectors' logits (> 0 means synthetic); with sigma the logistic function:
  mean_logit = mean(x)          max_logit = max(x)          median_logit = median(x) (mean of the middle two)
  lse_logit  = log sum exp(x)   (not divided by N)
  mean_prob  = logit(mean sigma(x_i))
  soft_or_prob = logit(1 - prod(1 - sigma(x_i)))   (the reference's default; two zeros give ln 3)

Stable float64 form (no overflow for any finite |x| <= 1e300, no NaN), with softplus(t) = max(t, 0) + log1p(exp(-|t|)),
log sigma(t) = -softplus(-t) and LSE(v) = m + log(sum exp(v_i - m)), m = max(v):
  lse_logit    = LSE(x)
  mean_prob    = LSE(log sigma(x)) - LSE(log sigma(-x))          (log N cancels; no 1 - p is ever formed)
  soft_or_prob = u + log(-expm1(-u)), u = sum softplus(x_i)       (u = -log prod(1 - sigma(x_i)))
                 but LSE(x) when max(x) < -36: there u underflows for x < -745, and u + log(-expm1(-u)) equals
                 LSE(x) within 1e-16 relative (softplus(t) = e^t (1 - e^t/2 ...)).
Rules of a fused verdict: a detector that failed is left out of x; no detector scored means no fused value.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

RULES = ("mean_logit", "max_logit", "median_logit", "lse_logit", "mean_prob", "soft_or_prob")
DEFAULT_RULE = "soft_or_prob"  # the reference's --fusion default


def _check_rule(rule: str) -> None:
    if rule not in RULES:
        raise ValueError(f"unknown fusion rule {rule!r}; one of {', '.join(RULES)}")


# ------------------------------------------------------------------------------------------ as the reference does it

def reference_fusion(x: np.ndarray, rule: str, axis: int = -1) -> np.ndarray:
    """The reference's formulas (utils/fusion.py, written from its definitions) on a float64 array: scipy's
    logsumexp and log_expit, softminusinv(y) = y - log(-expm1(y)). Not stable everywhere: mean_prob of two logits
    of 700 is inf there (log 2 - log 2 = 0)."""
    from scipy.special import log_expit, logsumexp

    _check_rule(rule)
    x = np.asarray(x, dtype=np.float64)

    def softminusinv(y):
        return y - np.log(-np.expm1(y))

    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if rule == "mean_logit":
            return np.mean(x, axis)
        if rule == "max_logit":
            return np.max(x, axis)
        if rule == "median_logit":
            return np.median(x, axis)
        if rule == "lse_logit":
            return logsumexp(x, axis)
        if rule == "mean_prob":
            return softminusinv(logsumexp(log_expit(x), axis) - np.log(x.shape[axis]))
        return -softminusinv(np.sum(log_expit(-x), axis))


# ------------------------------------------------------------------------------------------ stable float64 form

def softplus(t: float) -> float:
    return max(t, 0.0) + math.log1p(math.exp(-abs(t)))


def lse(values: Sequence[float]) -> float:
    m = max(values)
    if m == -math.inf:
        return m
    return m + math.log(math.fsum(math.exp(v - m) for v in values))


def stable_fusion(x: Sequence[float], rule: str) -> float:
    """The stable float64 form of the module docstring, on one vector of at least one logit."""
    _check_rule(rule)
    x = [float(v) for v in x]
    if not x:
        raise ValueError("no logits to fuse: no detector scored")
    if rule == "mean_logit":
        return math.fsum(x) / len(x)
    if rule == "max_logit":
        return max(x)
    if rule == "median_logit":
        s, n = sorted(x), len(x)
        return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    if rule == "lse_logit":
        return lse(x)
    if rule == "mean_prob":
        return lse([-softplus(-v) for v in x]) - lse([-softplus(v) for v in x])
    if max(x) < -36.0:
        return lse(x)
    u = math.fsum(softplus(v) for v in x)
    return u + math.log(-math.expm1(-u))


# ------------------------------------------------------------------------------------------ exact (fixtures)

def exact_fusion(x: Sequence[float], rule: str, dps: int = 1500):
    """The rule's true value on the float64 inputs, as an mpmath number computed with `dps` decimal digits (enough
    for sigma(1e-300) - 1/2 and 1 - sigma(1000) to be resolved). Round with float(...)."""
    import mpmath as mp

    _check_rule(rule)
    with mp.workdps(dps):
        v = [mp.mpf(float(t)) for t in x]
        n = len(v)
        if n == 0:
            raise ValueError("no logits to fuse: no detector scored")

        def sigma(t):
            return 1 / (1 + mp.exp(-t))

        if rule == "mean_logit":
            r = mp.fsum(v) / n
        elif rule == "max_logit":
            r = max(v)
        elif rule == "median_logit":
            s = sorted(v)
            r = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
        elif rule == "lse_logit":
            r = mp.log(mp.fsum(mp.exp(t) for t in v))
        elif rule == "mean_prob":
            p, q = mp.fsum(sigma(t) for t in v) / n, mp.fsum(sigma(-t) for t in v) / n  # q = 1 - p
            r = mp.log(p) - mp.log(q)
        else:
            q = mp.fprod(sigma(-t) for t in v)  # P(all real)
            r = mp.log(1 - q) - mp.log(q)
        return +r
