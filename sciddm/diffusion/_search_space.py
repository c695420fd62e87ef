r"""The search space of :func:`search_schedule`: candidates, repair, mutation, crossover.

A candidate is the tuple of its interior log noise levels (strictly decreasing,
in :math:`[\log\sigma_{min}, \log\sigma_{max})`; the first level is always
:math:`\sigma_{max}`, where the sampler starts, and the ladder ends in 0) and,
with a per-step solver choice, one step kind of :data:`SOLVERS` per step. The
number of levels is fixed by the NFE for a plain sampler; with a per-step plan
it varies, and :meth:`Space.repair` restores the plan's cost to the NFE.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sciddm.diffusion._gaussian_law import sampler_nfe
from sciddm.diffusion._solvers import _TWO_STAGE, SOLVERS

_ONE_STAGE = tuple(k for k in SOLVERS if k not in _TWO_STAGE)
#: The label of every step to sigma = 0 (all kinds take x = D there).
LAST = "euler"


@dataclasses.dataclass(frozen=True)
class Candidate:
    """Interior log-levels (descending) and, for a per-step plan, the step kinds."""

    logs: tuple[float, ...]
    plan: tuple[str, ...] | None = None


@dataclasses.dataclass
class Space:
    """Bounds, NFE and sampler of a search, with the genetic operators."""

    log_max: float
    log_min: float
    nfe: int
    sampler: str
    per_step: bool
    n_levels: int  # levels of a plain-sampler candidate (sigma_max included)
    sigma_max: float
    sigma_min: float
    gap: float = 1e-3

    # ----------------------------------------------------------------- basics
    def ladder(self, c: Candidate) -> np.ndarray:
        """``[sigma_max, exp(logs)..., 0]``."""
        inner = np.exp(np.asarray(c.logs, dtype=np.float64))
        # the exact lower bound despite the round trip through log
        inner[inner <= self.sigma_min * (1 + 1e-12)] = self.sigma_min
        return np.concatenate([[self.sigma_max], inner, [0.0]])

    def cost(self, c: Candidate) -> int:
        return sampler_nfe(self.ladder(c), self.sampler, c.plan)

    def from_ladder(self, sigmas: np.ndarray, plan: tuple[str, ...] | None = None) -> Candidate:
        """The candidate of a ladder ``[sigma_max, ..., 0]``."""
        logs = tuple(float(v) for v in np.log(np.asarray(sigmas[1:-1], dtype=np.float64)))
        return Candidate(logs, self._normal_plan(plan))

    def key(self, c: Candidate) -> tuple[tuple[float, ...], tuple[str, ...] | None]:
        return tuple(round(v, 10) for v in c.logs), c.plan

    @staticmethod
    def _normal_plan(plan: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if plan is None:
            return None
        return (*plan[:-1], LAST)

    # ----------------------------------------------------------------- repair
    def _fix_levels(self, logs: np.ndarray) -> np.ndarray:
        """Reflect at the top bound, clip, sort descending and keep a minimal gap.

        A move past ``log_max`` is reflected back (levels would otherwise pile up
        just below ``sigma_max``, wasting evaluations where nothing happens); a move
        below ``log_min`` is clipped to it (``sigma_min`` is a useful last level).
        """
        z = np.asarray(logs, dtype=np.float64)
        z = np.where(z > self.log_max, 2 * self.log_max - z, z)
        z = np.sort(np.clip(z, self.log_min, self.log_max - self.gap))[::-1].copy()
        prev = self.log_max
        for i in range(z.size):
            z[i] = min(z[i], prev - self.gap)
            prev = z[i]
        floor = self.log_min
        for i in range(z.size - 1, -1, -1):
            z[i] = max(z[i], floor)
            floor = z[i] + self.gap
        return z

    def _insert(self, z: list[float], plan: list[str] | None, rng: np.random.Generator) -> None:
        """Insert a level at the middle of the widest log gap (new step: a 1-NFE kind)."""
        bounds = [self.log_max, *z, self.log_min]
        widths = [bounds[i] - bounds[i + 1] for i in range(len(bounds) - 1)]
        j = int(np.argmax(widths))
        z.insert(j, (bounds[j] + bounds[j + 1]) / 2)
        if plan is not None:
            # level j of z is ladder level j + 1; the step starting there is plan[j + 1]
            plan.insert(j + 1, str(rng.choice(_ONE_STAGE)))

    def _remove(self, z: list[float], plan: list[str] | None, rng: np.random.Generator) -> None:
        j = int(rng.integers(len(z)))
        z.pop(j)
        if plan is not None:
            plan.pop(j + 1)

    def repair(
        self, logs: np.ndarray, plan: list[str] | None, rng: np.random.Generator
    ) -> Candidate:
        """A feasible candidate: ordered levels, the right number of them or plan cost."""
        z = [float(v) for v in self._fix_levels(np.asarray(logs, dtype=np.float64))]
        if plan is None:
            while len(z) > self.n_levels - 1:
                self._remove(z, None, rng)
            while len(z) < self.n_levels - 1:
                self._insert(z, None, rng)
            return Candidate(tuple(z))
        plan = list(plan)
        plan[-1] = LAST

        def cost() -> int:
            return int(sum(2 if k in _TWO_STAGE else 1 for k in plan[:-1])) + 1

        while cost() > self.nfe:
            heavy = [i for i, k in enumerate(plan[:-1]) if k in _TWO_STAGE]
            if heavy and (not z or rng.random() < 0.5):
                plan[int(rng.choice(heavy))] = str(rng.choice(_ONE_STAGE))
            else:
                self._remove(z, plan, rng)
        while cost() < self.nfe:
            light = [i for i, k in enumerate(plan[:-1]) if k not in _TWO_STAGE]
            if light and rng.random() < 0.5:
                plan[int(rng.choice(light))] = str(rng.choice(_TWO_STAGE))
            else:
                self._insert(z, plan, rng)
        z = [float(v) for v in self._fix_levels(np.asarray(z))]
        return Candidate(tuple(z), tuple(plan))

    # ----------------------------------------------------------------- operators
    def mutate(self, c: Candidate, rng: np.random.Generator, scale: float) -> Candidate:
        """Gaussian moves of some log-levels (std ``scale``); with a plan, new step kinds."""
        z = np.asarray(c.logs, dtype=np.float64).copy()
        plan = None if c.plan is None else list(c.plan)
        if z.size:
            mask = rng.random(z.size) < max(1.0 / z.size, 0.3)
            if not mask.any():
                mask[rng.integers(z.size)] = True
            z = z + mask * rng.normal(0.0, scale, z.size)
        if plan is not None and len(plan) > 1:
            for i in range(len(plan) - 1):
                if rng.random() < 1.0 / len(plan):
                    plan[i] = str(rng.choice(SOLVERS))
        return self.repair(z, plan, rng)

    def crossover(self, a: Candidate, b: Candidate, rng: np.random.Generator) -> Candidate:
        """One-point crossover in log sigma: ``a`` above a random cut, ``b`` below it."""
        cut = rng.uniform(self.log_min, self.log_max)
        za = [v for v in a.logs if v > cut]
        zb = [v for v in b.logs if v <= cut]
        plan = None
        if a.plan is not None and b.plan is not None:
            pa = [a.plan[0]] + [k for v, k in zip(a.logs, a.plan[1:]) if v > cut]
            pb = [k for v, k in zip(b.logs, b.plan[1:]) if v <= cut]
            plan = pa + pb
        return self.repair(np.asarray(za + zb), plan, rng)

    def coordinate(self, c: Candidate, i: int, delta: float, rng: np.random.Generator) -> Candidate:
        """Move log-level ``i`` by ``delta`` (kept between its neighbours)."""
        z = list(c.logs)
        hi = self.log_max if i == 0 else z[i - 1]
        lo = self.log_min if i == len(z) - 1 else z[i + 1]
        z[i] = min(max(z[i] + delta, lo + self.gap / 2), hi - self.gap / 2)
        return self.repair(np.asarray(z), None if c.plan is None else list(c.plan), rng)

    def with_kind(self, c: Candidate, i: int, kind: str, rng: np.random.Generator) -> Candidate:
        """Step ``i`` of the plan changed to ``kind`` (the cost repaired)."""
        assert c.plan is not None
        plan = list(c.plan)
        plan[i] = kind
        return self.repair(np.asarray(c.logs), plan, rng)
