"""The numbers a launch generator draws per launch (:mod:`vigil.campaign.generator`): a number,
``{uniform: [lo, hi]}`` or ``{normal: {mean: m, sd: s}}`` in the campaign file → a :class:`Dist`, and the
pydantic field types that parse and bound them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import AfterValidator


@dataclass(frozen=True)
class Dist:
    """A number drawn per launch: ``fixed`` (a), ``uniform`` on [a, b), or ``normal`` (mean a, sd b)."""

    kind: str
    a: float
    b: float = 0.0

    def draw(self, rng: np.random.Generator) -> float:
        if self.kind == "fixed":
            return self.a
        if self.kind == "uniform":
            return float(rng.uniform(self.a, self.b))
        return float(rng.normal(self.a, self.b))

    @property
    def support(self) -> tuple[float, float]:
        return (self.a, self.a) if self.kind == "fixed" else (self.a, self.b)


def _finite(x: Any, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        raise ValueError(f"{what}: {x!r} is not a finite number")
    return float(x)


def parse_dist(value: Any, bounded: bool = False) -> Dist:
    """A number, ``{uniform: [lo, hi]}`` or (unless ``bounded``) ``{normal: {mean: m, sd: s}}``."""
    if not isinstance(value, dict):
        return Dist("fixed", _finite(value, "value"))
    if len(value) != 1 or next(iter(value)) not in ("uniform", "normal"):
        raise ValueError("give a number, {uniform: [low, high]} or {normal: {mean: m, sd: s}}")
    kind, arg = next(iter(value.items()))
    if kind == "normal":
        if bounded:
            raise ValueError("normal: not allowed here (unbounded); use a number or {uniform: [low, high]}")
        if not isinstance(arg, dict) or set(arg) != {"mean", "sd"}:
            raise ValueError("normal: give {mean: m, sd: s}")
        mean, sd = _finite(arg["mean"], "normal.mean"), _finite(arg["sd"], "normal.sd")
        if sd <= 0.0:
            raise ValueError(f"normal.sd: {sd:g} is not above 0")
        return Dist("normal", mean, sd)
    if not isinstance(arg, list) or len(arg) != 2:
        raise ValueError("uniform: give [low, high]")
    lo, hi = _finite(arg[0], "uniform[0]"), _finite(arg[1], "uniform[1]")
    if not lo < hi:
        raise ValueError(f"uniform: low {lo:g} is not below high {hi:g}")
    return Dist("uniform", lo, hi)


def _within(lo: float, hi: float):
    def check(d: Dist) -> Dist:
        a, b = d.support
        if a < lo or b > hi:
            raise ValueError(f"[{a:g}, {b:g}] is outside [{lo:g}, {hi:g}]")
        return d

    return AfterValidator(check)


AnyDist = Annotated[Any, AfterValidator(parse_dist)]
BoundedDist = Annotated[Any, AfterValidator(lambda v: parse_dist(v, bounded=True))]
LoftDist = Annotated[BoundedDist, _within(0.0, 90.0)]
RangeDist = Annotated[BoundedDist, _within(1e-3, math.inf)]
