"""An assessment round of 1,000 units × 60 indicators through ``sizheng.assess.methods``, against pymcdm.

Generated data (seeded, no database): 1,000 units with a latent quality, 60 indicators in six
groups of ten (the 思政工作测评 dimensions), 48 of them benefit-type scores on 0–100 and 12 cost-type
quantities (问题数、超期天数 …, strictly positive), grades near rules.md §6's county distribution;
three experts' pairwise judgments for the six groups and for the ten indicators of each group
(Saaty scale, noisy around hidden priorities).

One round, timed as a whole (median of ``RUNS`` after a warm-up) and step by step:

1. objective weights: ``entropy_weights`` (min-max variant by indicator type);
2. subjective weights: per matrix the experts' AIJ (``aggregate_judgments``) then ``ahp``, global
   weight = group weight × local weight;
3. ``combine_weights`` (博弈论 game theory);
4. ``topsis`` on the raw values with the indicator types;
5. scores (cost quantities → 0–100 by a deduction per unit), weighted totals and grade bands (好 ≥ 90 …);
6. ``sensitivity`` with 1,000 Dirichlet draws: of the weighted totals (rank range and grade-change
   probability for the bands 60/80/90) and of the TOPSIS ranking (rank range).

Peak memory: the largest traced allocation of one round (``tracemalloc``: numpy reports its buffers
to it), measured in a separate run from the timed ones, and the process's max RSS.

Baseline, in the same run on the same data: pymcdm's ``entropy_weights`` + ``TOPSIS`` (vector
normalisation) against ours (``entropy_weights`` raw + ``topsis`` vector) — the same computation,
checked equal before timing; runs alternate. pymcdm is a bench-only extra
(``pip install -e '.[bench]'``); without it the baseline is skipped with a note.
"""

from __future__ import annotations

import resource
import statistics
import time
import tracemalloc

import numpy as np

from bench import Result, log, timed

UNITS = 1000
GROUPS = 6
PER_GROUP = 10
INDICATORS = GROUPS * PER_GROUP
COST_PER_GROUP = 2
EXPERTS = 3
SAMPLES = 1000
RUNS = 5
SEED = 2026
GRADE_EDGES = [60.0, 80.0, 90.0]
SAATY = np.array([1 / 9, 1 / 8, 1 / 7, 1 / 6, 1 / 5, 1 / 4, 1 / 3, 1 / 2, 1, 2, 3, 4, 5, 6, 7, 8, 9])


def make_data(rng: np.random.Generator):
    """Raw indicator values (units × indicators), the indicator types and the cost deduction rates.

    Each unit gets a latent total drawn so the grades land near the county distribution of
    rules.md §6 (好 10 %, 较好 61 %, 一般 20 %, 较差 9 %); benefit indicators scatter around it,
    cost quantities shrink as it grows and are scored by a deduction per unit of quantity.
    """
    band = rng.choice(4, size=UNITS, p=[0.10, 0.61, 0.20, 0.09])
    low, high = np.array([90, 80, 60, 45])[band], np.array([98, 90, 80, 60])[band]
    latent = rng.uniform(low, high)
    types = np.ones(INDICATORS, dtype=int)
    for g in range(GROUPS):
        types[g * PER_GROUP + PER_GROUP - COST_PER_GROUP : (g + 1) * PER_GROUP] = -1
    benefit = types == 1
    x = np.empty((UNITS, INDICATORS))
    noise = rng.normal(0, 1, (UNITS, INDICATORS))
    x[:, benefit] = np.clip(latent[:, None] + 6 * noise[:, benefit], 20, 100)
    # Cost quantities (问题数、超期天数 …): fewer for better units, never exactly 0.
    unit = rng.uniform(1, 6, (~benefit).sum())
    x[:, ~benefit] = unit * (100.5 - latent[:, None]) / 10 * np.exp(0.3 * noise[:, ~benefit]) + 0.1
    deduction = 10 / unit  # points per unit of quantity, so a cost score tracks the latent total
    return x, types, deduction


def make_judgments(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """Three experts' reciprocal matrices on the 1–9 scale around one hidden priority vector."""
    hidden = rng.dirichlet(np.full(n, 2.0))
    experts = []
    for _ in range(EXPERTS):
        a = np.ones((n, n))
        for i in range(n):
            for j in range(i + 1, n):
                ratio = hidden[i] / hidden[j] * np.exp(rng.normal(0, 0.25))
                v = SAATY[np.argmin(np.abs(np.log(SAATY) - np.log(ratio)))]
                a[i, j], a[j, i] = v, 1 / v
        experts.append(a)
    return experts


class Round:
    """One assessment round on fixed inputs; ``run()`` is what is timed."""

    def __init__(self, x, types, deduction, judgments) -> None:
        self.x, self.types, self.deduction, self.judgments = x, types, deduction, judgments
        self.step_times: dict[str, list[float]] = {}

    def _step(self, name: str, started: float) -> float:
        now = time.perf_counter()
        self.step_times.setdefault(name, []).append(now - started)
        return now

    def run(self) -> dict:
        from sizheng.assess import methods as M

        t = time.perf_counter()
        objective = M.entropy_weights(self.x, variant="minmax", criteria_types=self.types)
        t = self._step("entropy", t)
        group_matrix, *indicator_matrices = self.judgments
        groups = M.ahp(M.aggregate_judgments(group_matrix))
        local = [M.ahp(M.aggregate_judgments(m)) for m in indicator_matrices]
        subjective = np.concatenate(
            [g * np.array(r.weights) for g, r in zip(groups.weights, local, strict=True)]
        )
        t = self._step("ahp", t)
        weights = M.combine_weights(subjective, objective.weights, method="game_theory")
        t = self._step("combine", t)
        ranking = M.topsis(self.x, weights, self.types)
        t = self._step("topsis", t)
        scores = self.x.copy()
        cost = self.types == -1
        scores[:, cost] = np.clip(100 - self.deduction * self.x[:, cost], 0, 100)
        totals = scores @ np.array(weights)
        grades = np.searchsorted(GRADE_EDGES, totals, side="right")
        t = self._step("scores", t)
        totals_sensitivity = M.sensitivity(
            scores, weights, None, method="weighted_sum", grade_edges=GRADE_EDGES, samples=SAMPLES, seed=SEED
        )
        t = self._step("sensitivity_totals", t)
        topsis_sensitivity = M.sensitivity(self.x, weights, self.types, samples=SAMPLES, seed=SEED)
        self._step("sensitivity_topsis", t)
        return {
            "weights": weights,
            "cr": [groups.cr] + [r.cr for r in local],
            "closeness": ranking.closeness,
            "grades": grades,
            "totals": totals_sensitivity,
            "topsis": topsis_sensitivity,
        }


def _peak_traced(func) -> int:
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def baseline(x, types):
    """pymcdm's entropy + TOPSIS (vector) and ours for the same computation, or None without pymcdm."""
    try:
        from pymcdm import normalizations
        from pymcdm.methods import TOPSIS
        from pymcdm.weights import entropy_weights as pymcdm_entropy
    except ImportError:
        return None
    from sizheng.assess import methods as M

    pymcdm_topsis = TOPSIS(normalization_function=normalizations.vector_normalization)

    def theirs():
        w = pymcdm_entropy(x)
        return w, pymcdm_topsis(x, w, types)

    def ours():
        w = M.entropy_weights(x).weights
        return w, M.topsis(x, w, types).closeness

    (w_theirs, c_theirs), (w_ours, c_ours) = theirs(), ours()
    # pymcdm writes a cost column as 1 − x/‖x‖ and takes the max; the classic form takes the min of
    # x/‖x‖: the same distances, so the closeness must agree.
    if not (
        np.allclose(w_theirs, w_ours, rtol=0, atol=1e-12) and np.allclose(c_theirs, c_ours, rtol=0, atol=1e-9)
    ):
        raise RuntimeError("pymcdm 与本项目的熵权 + TOPSIS 结果不一致")
    return theirs, ours


def run() -> list[Result]:
    """Generate the round, check against pymcdm, time both and report time and memory."""
    rng = np.random.default_rng(SEED)
    log(f"生成 {UNITS:,} 个单位 × {INDICATORS} 项指标的测评数据与 {EXPERTS} 位专家的判断矩阵 …")
    x, types, deduction = make_data(rng)
    judgments = [make_judgments(rng, GROUPS)] + [make_judgments(rng, PER_GROUP) for _ in range(GROUPS)]
    round_ = Round(x, types, deduction, judgments)

    log("一轮测评：预热并测峰值内存（tracemalloc）…")
    result = round_.run()
    peak = _peak_traced(round_.run)
    round_.step_times.clear()
    log(f"计时：整轮测评 {RUNS} 次 …")
    round_time, result = timed(round_.run, RUNS)
    steps = {name: statistics.median(times[1:]) for name, times in round_.step_times.items()}

    pair = baseline(x, types)
    if pair is None:
        note = "pymcdm 未安装，跳过基线（pip install -e '.[bench]'）"
        print(f"注意：{note}。", flush=True)
        ratio_text = f"baseline skipped ({note})"
    else:
        theirs, ours = pair
        log(f"计时：熵权 + TOPSIS，本项目与 pymcdm 交替各 {RUNS} 次（已核对结果一致）…")
        ours_times, theirs_times = [], []
        theirs()
        ours()
        for _ in range(RUNS):
            t0 = time.perf_counter()
            ours()
            ours_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            theirs()
            theirs_times.append(time.perf_counter() - t0)
        ours_time, theirs_time = statistics.median(ours_times), statistics.median(theirs_times)
        ratio_text = (
            f"entropy+TOPSIS ours {ours_time * 1000:.1f} ms vs pymcdm {theirs_time * 1000:.1f} ms "
            f"(results equal) = {ours_time / theirs_time:.2f}×; whole round = {round_time / theirs_time:.0f}× "
            f"pymcdm's entropy+TOPSIS"
        )

    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    mb = 1024 * 1024
    totals, topsis_s = result["totals"], result["topsis"]
    p = np.array(totals.grade_change_probability)
    width = np.array(totals.rank_max) - np.array(totals.rank_min)
    topsis_width = np.array(topsis_s.rank_max) - np.array(topsis_s.rank_min)
    bands = np.bincount(result["grades"], minlength=4)[::-1]
    step_text = ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in steps.items())
    figures = (
        f"assess round {UNITS:,}×{INDICATORS}: {round_time:.2f} s median (n={RUNS}) [{step_text}]; "
        f"peak traced memory {peak / mb:.0f} MB (process max RSS {maxrss / mb:.0f} MB); {ratio_text}; "
        f"grades 好/较好/一般/较差 {'/'.join(str(int(b)) for b in bands)}, "
        f"{int((p > 0.05).sum())} units with grade-change probability > 5 % (max {p.max():.2f}); "
        f"rank range (totals) median {np.median(width):.0f}, max {width.max()}; (TOPSIS) median "
        f"{np.median(topsis_width):.0f}; AHP CR max {max(result['cr']):.3f}"
    )
    print(figures, flush=True)
    return [
        Result("assess_round", f"{UNITS:,} units × {INDICATORS} indicators, {SAMPLES:,} samples", figures)
    ]
