"""engine.analysis.stats agrees with scipy.stats on fixed cases, and degenerate arms give NotEnoughData."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats as ss

from engine.analysis import stats
from engine.errors import InputError

TOL = 1e-6


def close(a: float, b: float, tol: float = TOL) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(b))


def sample(seed: int, n: int, mean: float, sd: float, kind: str = "normal") -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "binary":
        return (rng.random(n) < mean).astype(float)
    if kind == "latency":
        return rng.lognormal(math.log(mean), sd, n)
    return rng.normal(mean, sd, n)


# (control, treatment): tiny, very unbalanced, binary, latency-scale, one arm constant.
CASES = {
    "tiny_2_vs_2": (sample(1, 2, 0.7, 0.1), sample(2, 2, 0.8, 0.1)),
    "tiny_2_vs_3": (sample(3, 2, 0.7, 0.2), sample(4, 3, 0.6, 0.05)),
    "unbalanced_3_vs_2000": (sample(5, 3, 0.7, 0.1), sample(6, 2000, 0.72, 0.15)),
    "unbalanced_5000_vs_4": (sample(7, 5000, 0.7, 0.1), sample(8, 4, 0.65, 0.3)),
    "medium_40_vs_60": (sample(9, 40, 0.7, 0.1), sample(10, 60, 0.75, 0.12)),
    "binary_share_main": (sample(11, 300, 0.6, 0, "binary"), sample(12, 280, 0.45, 0, "binary")),
    "latency_ms": (sample(13, 150, 12_000, 0.3, "latency"), sample(14, 170, 9_000, 0.4, "latency")),
    "control_constant": (np.full(10, 0.5), sample(15, 12, 0.55, 0.05)),
    "large_20000_each": (sample(16, 20_000, 0.7, 0.1), sample(17, 20_000, 0.701, 0.1)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_welch_agrees_with_scipy_ttest_ind(name):
    control, treatment = CASES[name]
    result = stats.compute_welch(stats.ArmStats.of(control), stats.ArmStats.of(treatment))
    assert isinstance(result, stats.WelchResult)
    ref = ss.ttest_ind(treatment, control, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert close(result.p_value, ref.pvalue), (result.p_value, ref.pvalue)
    assert close(result.t, ref.statistic)
    assert close(result.df, ref.df)
    assert close(result.diff_ci[0], ci.low) and close(result.diff_ci[1], ci.high)
    assert close(result.diff, treatment.mean() - control.mean())

    # Delta-method relative lift, the MDE and the chance to beat, recomputed independently.
    vc, vt = control.var(ddof=1) / control.size, treatment.var(ddof=1) / treatment.size
    mc, mt = control.mean(), treatment.mean()
    crit = ss.t.ppf(0.975, ref.df)
    lift_se = math.sqrt(vt / mc**2 + mt**2 * vc / mc**4)
    assert close(result.lift, mt / mc - 1)
    assert close(result.lift_ci[0], mt / mc - 1 - crit * lift_se)
    assert close(result.lift_ci[1], mt / mc - 1 + crit * lift_se)
    assert close(result.mde, (ss.norm.ppf(0.975) + ss.norm.ppf(0.8)) * math.sqrt(vc + vt))
    assert close(result.chance_to_beat, ss.norm.cdf(ref.statistic))
    lower_better = stats.compute_welch(stats.ArmStats.of(control), stats.ArmStats.of(treatment),
                                       higher_is_better=False)
    assert close(lower_better.chance_to_beat, ss.norm.cdf(-ref.statistic))
    assert all(math.isfinite(v) for v in (result.p_value, *result.diff_ci, *result.lift_ci, result.mde))


@pytest.mark.parametrize("control,treatment,reason", [
    ([], [], "control has 0"),
    ([], [0.5, 0.6, 0.7], "control has 0"),
    ([0.5, 0.6], [], "treatment has 0"),
    ([0.5], [0.5, 0.6, 0.7], "control has 1 observation;"),
    ([0.8] * 50, [0.8] * 40, "zero variance"),
    ([1.0] * 30, [0.0] * 30, "zero variance"),
])
def test_degenerate_arms_give_not_enough_data_not_nan(control, treatment, reason):
    result = stats.compute_welch(stats.ArmStats.of(control), stats.ArmStats.of(treatment))
    assert isinstance(result, stats.NotEnoughData)
    assert result.enough is False and reason in result.reason
    assert "nan" not in str(result.to_dict()).lower()


def test_arm_stats_from_sums_match_numpy():
    values = sample(20, 1000, 15_000, 0.5, "latency")
    arm = stats.ArmStats.of(values)
    assert close(arm.mean, values.mean(), 1e-12)
    assert close(arm.variance, values.var(ddof=1), 1e-9)
    assert stats.ArmStats(0).mean is None and stats.ArmStats(1, 3.0, 9.0).variance is None
    # Constant data: rounding in the sum of squares must not leave a tiny positive variance.
    assert stats.ArmStats.of(np.full(1000, 0.1)).variance == 0.0


@pytest.mark.parametrize("df", [0.7, 1, 2, 3.5, 9, 30, 241.3, 5_000, 1e6])
def test_t_distribution_matches_scipy(df):
    for t in (0.0, 0.02, 0.7, 1.96, 4.0, 25.0, -1.3):
        assert abs(stats.t_sf(t, df) - ss.t.sf(t, df)) < 1e-10
    for p in (0.6, 0.9, 0.975, 0.995, 0.9999, 0.025):
        assert close(stats.t_ppf(p, df), ss.t.ppf(p, df), 1e-9)


def test_normal_and_chi2_match_scipy():
    for p in (1e-9, 0.001, 0.2, 0.5, 0.8, 0.975, 0.999999):
        assert close(stats.normal_ppf(p), ss.norm.ppf(p), 1e-12)
    for df in (1, 2, 3, 7):
        for x in (0.01, 0.5, 3.84, 10.8, 60.0):
            assert abs(stats.chi2_sf(x, df) - ss.chi2.sf(x, df)) < 1e-12


@pytest.mark.parametrize("observed,share", [
    ({"control": 520, "treatment": 480}, {"control": 0.5, "treatment": 0.5}),
    ({"control": 8, "treatment": 30}, {"control": 0.5, "treatment": 0.5}),
    ({"control": 5000, "treatment": 4700}, {"control": 0.5, "treatment": 0.5}),
    ({"control": 310, "treatment": 690}, {"control": 0.3, "treatment": 0.7}),
    ({"control": 100, "treatment": 50}, {"control": 0.5, "treatment": 0.5}),
    ({"a": 90, "b": 120, "c": 95}, {"a": 1, "b": 1, "c": 1}),
])
def test_srm_matches_scipy_chisquare(observed, share):
    result = stats.compute_srm(observed, share)
    counts = list(observed.values())
    total = sum(counts)
    expected = [total * share[k] / sum(share.values()) for k in observed]
    ref = ss.chisquare(counts, expected)
    assert result.checked
    assert close(result.chi2, ref.statistic) and abs(result.p_value - ref.pvalue) < 1e-12
    assert result.alert == (ref.pvalue < 0.001)


def test_srm_alerts_only_when_every_arm_has_enough_units():
    small = stats.compute_srm({"control": 7, "treatment": 200}, {"control": 0.5, "treatment": 0.5})
    assert not small.checked and not small.alert and "not enough data" in small.message
    assert small.p_value is None
    empty = stats.compute_srm({}, {"control": 0.5, "treatment": 0.5})
    assert not empty.checked and not empty.alert
    off = stats.compute_srm({"control": 300, "treatment": 200}, {"control": 0.5, "treatment": 0.5})
    assert off.alert and "SAMPLE RATIO MISMATCH" in off.message
    with pytest.raises(InputError):
        stats.compute_srm({"control": 10}, {"control": 0.0, "treatment": 1.0})


@pytest.mark.parametrize("passed,total", [(0, 10), (10, 10), (57, 60), (1, 3), (950, 1000)])
def test_pass_rate_wilson_interval_matches_scipy(passed, total):
    result = stats.compute_pass_rate(passed, total)
    ci = ss.binomtest(passed, total).proportion_ci(0.95, method="wilson")
    assert result.rate == passed / total
    assert close(result.ci[0], ci.low, 1e-9) and close(result.ci[1], ci.high, 1e-9)


def test_pass_rate_of_nothing_is_none_and_bad_counts_are_rejected():
    assert stats.compute_pass_rate(0, 0).rate is None
    with pytest.raises(InputError):
        stats.compute_pass_rate(5, 3)


def test_required_sample_size_matches_the_textbook_formula():
    control, treatment = stats.ArmStats.of(CASES["medium_40_vs_60"][0]), stats.ArmStats.of(CASES["medium_40_vs_60"][1])
    n = stats.compute_required_per_arm(control, treatment, 0.035)
    z = ss.norm.ppf(0.975) + ss.norm.ppf(0.8)
    assert n == math.ceil(z * z * (control.variance + treatment.variance) / 0.035**2)
    assert stats.compute_required_per_arm(stats.ArmStats(1, 1, 1), treatment, 0.1) is None
    assert stats.compute_required_per_arm(control, treatment, 0.0) is None


def test_boundary_drift_from_the_typed_adaptive_state():
    from engine.routing.state import StateFormatError, parse_state

    state = parse_state({"buckets": {"control": {"boundary": 0.5}, "treatment": {"boundary": 0.41}}}, "seed")
    drift = stats.compute_boundary_drift(state)
    assert drift.drift == pytest.approx(0.09) and drift.treatment_boundary == 0.41
    # Control never moves: a state without it drifts from the control boundary.
    only_treatment = parse_state({"buckets": {"treatment": {"boundary": 0.55}}}, "seed")
    assert stats.compute_boundary_drift(only_treatment).drift == pytest.approx(0.05)
    assert stats.compute_boundary_drift(None) is None
    # A state without a usable treatment boundary never reaches the drift: the reader names the field.
    with pytest.raises(StateFormatError, match="buckets.treatment.boundary"):
        parse_state({"buckets": {"control": {"boundary": 0.5}}}, "seed")


def test_sequential_interval_is_wider_and_agrees_with_its_p_value():
    for name in ("medium_40_vs_60", "binary_share_main", "large_20000_each", "unbalanced_3_vs_2000"):
        control, treatment = CASES[name]
        r = stats.compute_welch(stats.ArmStats.of(control), stats.ArmStats.of(treatment))
        assert r.seq_diff_ci[0] <= r.diff_ci[0] and r.seq_diff_ci[1] >= r.diff_ci[1]
        assert r.seq_p_value >= r.p_value
        zero_outside = not (r.seq_diff_ci[0] <= 0 <= r.seq_diff_ci[1])
        assert zero_outside == (r.seq_p_value < 0.05)


def test_peeking_keeps_the_sequential_false_positive_rate_within_alpha():
    """A/A tests looked at every 25 answers per arm: the fixed-horizon test 'finds' an effect
    far more often than 5 %, the anytime-valid sequence does not."""
    rng = np.random.default_rng(42)
    experiments, steps, peek = 400, 2000, 25
    a = rng.normal(0.7, 0.1, (experiments, steps))
    b = rng.normal(0.7, 0.1, (experiments, steps))
    fixed_hits = np.zeros(experiments, bool)
    seq_hits = np.zeros(experiments, bool)
    ca, cb = np.cumsum(a, 1), np.cumsum(b, 1)
    qa, qb = np.cumsum(a * a, 1), np.cumsum(b * b, 1)
    for n in range(peek, steps + 1, peek):
        diff = (cb[:, n - 1] - ca[:, n - 1]) / n
        var_a = (qa[:, n - 1] - ca[:, n - 1] ** 2 / n) / (n - 1)
        var_b = (qb[:, n - 1] - cb[:, n - 1] ** 2 / n) / (n - 1)
        se = np.sqrt((var_a + var_b) / n)
        fixed_hits |= 2 * ss.norm.sf(np.abs(diff / se)) < 0.05
        seq_hits |= np.array([stats.compute_sequential(d, s, 2 * n)[1] < 0.05 for d, s in zip(diff, se)])
    assert fixed_hits.mean() > 0.15  # peeking inflates the fixed-horizon error several-fold
    assert seq_hits.mean() <= 0.05


# ---------------------------------------------------------------------------------------------
# Session-level ratio metrics (the delta method).

def clustered(seed: int, sessions: int, mean: float, *, between_sd: float = 0.1, within_sd: float = 0.05,
              max_answers: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Answers in sessions with a per-session random effect: (answers per session, per-session
    metric sums, per-answer values)."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, max_answers + 1, sessions)
    effects = rng.normal(0.0, between_sd, sessions)
    values = mean + np.repeat(effects, counts) + rng.normal(0.0, within_sd, counts.sum())
    sums = np.add.reduceat(values, np.concatenate([[0], np.cumsum(counts)[:-1]]))
    return counts, sums, values


@pytest.mark.parametrize("name", ["tiny_2_vs_3", "unbalanced_3_vs_2000", "medium_40_vs_60", "binary_share_main",
                                  "latency_ms", "control_constant", "large_20000_each"])
def test_ratio_comparison_with_one_answer_per_session_is_the_welch_result(name):
    control, treatment = CASES[name]
    welch = stats.compute_welch(stats.ArmStats.of(control), stats.ArmStats.of(treatment))
    ratio = stats.compute_ratio_comparison(stats.RatioSums.of(np.ones(control.size), control),
                                           stats.RatioSums.of(np.ones(treatment.size), treatment))
    assert isinstance(ratio, stats.WelchResult) and ratio.analysis_unit == "session"
    assert welch.analysis_unit == "answer"
    for key, value in welch.to_dict().items():
        if key == "analysis_unit":
            continue
        other = ratio.to_dict()[key]
        if isinstance(value, (tuple, list)):
            assert all(close(a, b, 1e-8) for a, b in zip(other, value)), key
        elif isinstance(value, float):
            assert close(other, value, 1e-8), (key, other, value)
        else:
            assert other == value, key


def test_ratio_variance_matches_the_delta_method_and_a_cluster_bootstrap():
    counts, sums, _ = clustered(30, 150, 0.7)
    arm = stats.RatioSums.of(counts, sums)
    # Closed form, computed independently: gradient of mean(y) / mean(x) times the covariance
    # matrix of the per-session (x, y) means.
    x, y = counts.astype(float), sums
    cov = np.cov(np.vstack([x, y]), ddof=1) / x.size
    gradient = np.array([-y.mean() / x.mean() ** 2, 1.0 / x.mean()])
    delta_var = gradient @ cov @ gradient
    assert close(arm.mean, y.sum() / x.sum(), 1e-12)
    assert close(arm.variance / arm.n, delta_var, 1e-9)
    # Cluster bootstrap: resample whole sessions with replacement.
    rng = np.random.default_rng(31)
    weights = rng.multinomial(x.size, np.full(x.size, 1.0 / x.size), size=4000)
    boot = (weights @ y) / (weights @ x)
    assert abs(math.sqrt(arm.variance / arm.n) / boot.std(ddof=1) - 1.0) < 0.05

    # And the comparison's standard error and interval follow from the two arms' variances.
    other = stats.RatioSums.of(*clustered(32, 120, 0.72)[:2])
    result = stats.compute_ratio_comparison(arm, other)
    se = math.sqrt(arm.variance / arm.n + other.variance / other.n)
    assert close(result.se, se, 1e-12) and close(result.diff, other.mean - arm.mean, 1e-12)
    df = se**4 / ((arm.variance / arm.n) ** 2 / (arm.n - 1) + (other.variance / other.n) ** 2 / (other.n - 1))
    assert close(result.df, df, 1e-9)
    assert close(result.diff_ci[1] - result.diff, ss.t.ppf(0.975, df) * se)
    assert close(result.p_value, 2 * ss.t.sf(abs(result.diff / se), df))


def test_correlated_answers_under_cover_per_answer_but_not_per_session():
    """200 A/A experiments whose answers share a per-session effect: treating answers as
    independent finds a 'significant' difference far more often than 5 %; the session-level
    ratio comparison stays close to the nominal 5 %."""
    experiments, per_answer_hits, per_session_hits = 200, 0, 0
    for i in range(experiments):
        control = clustered(1000 + 2 * i, 60, 0.7)
        treatment = clustered(1001 + 2 * i, 60, 0.7)
        answer = stats.compute_welch(stats.ArmStats.of(control[2]), stats.ArmStats.of(treatment[2]))
        session = stats.compute_ratio_comparison(stats.RatioSums.of(*control[:2]), stats.RatioSums.of(*treatment[:2]))
        assert close(answer.diff, session.diff, 1e-9)  # same point estimate, different uncertainty
        per_answer_hits += answer.diff_ci[0] > 0 or answer.diff_ci[1] < 0
        per_session_hits += session.diff_ci[0] > 0 or session.diff_ci[1] < 0
    assert per_answer_hits / experiments > 0.25
    assert 0.01 <= per_session_hits / experiments <= 0.09


@pytest.mark.parametrize("control,treatment,reason", [
    (stats.RatioSums(0), stats.RatioSums(0), "control has 0 sessions"),
    (stats.RatioSums.of([5], [4.0]), stats.RatioSums.of([1, 2], [0.5, 1.2]), "control has 1 session;"),
    (stats.RatioSums.of([1, 2], [0.5, 1.2]), stats.RatioSums.of([0, 0], [0, 0]), "treatment has 0 sessions"),
    (stats.RatioSums.of([1, 3, 2], [0.8, 2.4, 1.6]), stats.RatioSums.of([4, 4], [3.2, 3.2]), "zero variance"),
])
def test_ratio_comparison_with_too_few_sessions_gives_not_enough_data(control, treatment, reason):
    result = stats.compute_ratio_comparison(control, treatment)
    assert isinstance(result, stats.NotEnoughData) and reason in result.reason
    assert "nan" not in str(result.to_dict()).lower()


def test_required_sessions_use_the_delta_method_variance():
    control = stats.RatioSums.of(*clustered(40, 80, 0.7)[:2])
    treatment = stats.RatioSums.of(*clustered(41, 80, 0.7)[:2])
    z = ss.norm.ppf(0.975) + ss.norm.ppf(0.8)
    n = stats.compute_required_per_arm(control, treatment, 0.02)
    assert n == math.ceil(z * z * (control.variance + treatment.variance) / 0.02**2)
