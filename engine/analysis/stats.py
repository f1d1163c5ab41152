"""A/B statistics as pure functions of counts, sums and sums of squares: Welch tests per answer and
session-level ratio metrics (delta method) with intervals, relative lift, power/MDE, the
sample-ratio-mismatch check, chance to beat, and the SLO's pass-rate and boundary-drift figures.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from engine.errors import InputError
from engine.routing.adaptive import AdaptiveState
from engine.runbook import CONTROL, TREATMENT

ALPHA = 0.05
POWER = 0.80
SRM_ALPHA = 0.001  # experimentation platforms alert on SRM only at p < 0.001
SRM_MIN_UNITS = 8  # per arm; below this the chi-square approximation is not trusted

_EPS = 1e-15
_TINY = 1e-300


# ---------------------------------------------------------------------------------------------
# Distribution functions (Student t via the regularized incomplete beta, chi-square via the
# regularized incomplete gamma), accurate to ~1e-12; checked against scipy in the tests.

def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta (modified Lentz); converges for x < (a+1)/(a+b+2)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    # Iterations needed grow like sqrt(max(a, b)); large Welch df (big logs) need thousands.
    for m in range(1, 200 + 20 * int(math.sqrt(max(a, b)))):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return h


def _lgamma_ratio(a: float, b: float) -> float:
    """lgamma(a + b) - lgamma(a) without the cancellation of two huge lgamma values (large a)."""
    if a < 10.0:
        return math.lgamma(a + b) - math.lgamma(a)

    def stirling_tail(x: float) -> float:
        x2 = x * x
        return (1 / 12 - (1 / 360 - (1 / 1260 - (1 / 1680 - 1 / (1188 * x2)) / x2) / x2) / x2) / x

    return ((a - 0.5) * math.log1p(b / a) + b * math.log(a + b) - b
            + stirling_tail(a + b) - stirling_tail(a))


def _betainc(a: float, b: float, x: float, y: float, log_x: float, log_y: float) -> float:
    """I_x(a, b) with y = 1 - x and both logs supplied, so callers can avoid rounding 1 - x."""
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    big, small = (a, b) if a >= b else (b, a)
    log_front = _lgamma_ratio(big, small) - math.lgamma(small) + a * log_x + b * log_y
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, y) / b


def betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b) for a, b > 0 and 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    return _betainc(a, b, x, 1.0 - x, math.log(x), math.log1p(-x))


def t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t with `df` degrees of freedom (df may be fractional)."""
    if math.isinf(t):
        return 0.0 if t > 0 else 1.0
    if t == 0:
        return 0.5
    # x = df / (df + t^2) and 1 - x = t^2 / (df + t^2), each formed directly (no 1 - x rounding).
    t2 = t * t
    x, y = df / (df + t2), t2 / (df + t2)
    log_x = -math.log1p(t2 / df)
    log_y = math.log(t2) - math.log(df + t2) if t2 < df else -math.log1p(df / t2)
    tail = 0.5 * _betainc(df / 2.0, 0.5, x, y, log_x, log_y)
    return tail if t >= 0 else 1.0 - tail


def normal_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def normal_ppf(p: float) -> float:
    """Inverse standard normal CDF (Acklam's rational approximation, refined by Newton steps)."""
    if not 0.0 < p < 1.0:
        raise ValueError("p must be in (0, 1)")
    if p > 0.5:
        # 1 - p is exact here (Sterbenz), and the lower tail refines without cancellation.
        return -normal_ppf(1.0 - p)
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
         1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
         6.680131188771972e01, -1.328068155288572e01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
         -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
    low = 0.02425
    if p < low:
        q = math.sqrt(-2 * math.log(p))
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    else:
        q = p - 0.5
        r = q * q
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / \
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    for _ in range(3):
        pdf = math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        if pdf <= 0:
            break
        x -= (normal_cdf(x) - p) / pdf
    return x


def t_ppf(p: float, df: float) -> float:
    """Inverse Student t CDF: safeguarded Newton from the normal quantile, bisection fallback."""
    if not 0.0 < p < 1.0:
        raise ValueError("p must be in (0, 1)")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_ppf(1.0 - p, df)
    target = 1.0 - p  # upper tail, computed without cancellation
    lo, hi = 0.0, max(1.0, normal_ppf(p))
    while t_sf(hi, df) > target:
        lo, hi = hi, hi * 2.0
        if hi > 1e12:
            return hi
    x = normal_ppf(p)
    if not lo < x < hi:
        x = (lo + hi) / 2.0
    log_norm = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    for _ in range(100):
        f = t_sf(x, df) - target
        if f > 0:
            lo = x
        else:
            hi = x
        pdf = math.exp(log_norm - (df + 1) / 2 * math.log1p(x * x / df))
        step = f / pdf if pdf > 0 else 0.0
        nxt = x + step
        if not lo < nxt < hi:
            nxt = (lo + hi) / 2.0
        if abs(nxt - x) <= 1e-13 * max(1.0, abs(x)):
            return nxt
        x = nxt
    return x


def _gamma_q(a: float, x: float) -> float:
    """Regularized upper incomplete gamma Q(a, x) (series below a+1, continued fraction above)."""
    if x <= 0:
        return 1.0
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1.0:
        term = total = 1.0 / a
        ap = a
        for _ in range(10_000):
            ap += 1.0
            term *= x / ap
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return max(0.0, 1.0 - total * math.exp(log_front))
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = b + an / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return math.exp(log_front) * h


def chi2_sf(stat: float, df: int) -> float:
    """P(X > stat) for a chi-square variable with `df` degrees of freedom."""
    if df == 1:
        return math.erfc(math.sqrt(max(stat, 0.0) / 2.0))
    return _gamma_q(df / 2.0, stat / 2.0)


# ---------------------------------------------------------------------------------------------
# Sufficient statistics and results.

@dataclass(frozen=True)
class ArmStats:
    """One arm's sufficient statistics for one metric: n, sum and sum of squares."""

    n: int
    total: float = 0.0
    total_sq: float = 0.0

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n > 0 else None

    @property
    def variance(self) -> float | None:
        """Sample variance (ddof=1); None below two observations. Clamped at 0 because the
        sum-of-squares formula can go a hair negative by rounding on constant data."""
        if self.n < 2:
            return None
        var = (self.total_sq - self.total * self.total / self.n) / (self.n - 1)
        # Treat rounding noise relative to the magnitude of the data as zero variance.
        scale = self.total_sq / self.n if self.total_sq > 0 else 0.0
        return 0.0 if var <= scale * 1e-12 else var

    @classmethod
    def of(cls, values: Any) -> ArmStats:
        """Sufficient statistics of a sequence (numpy array or list), computed vectorised."""
        import numpy as np

        arr = np.asarray(values, dtype=float)
        return cls(int(arr.size), float(arr.sum()), float((arr * arr).sum()))


@dataclass(frozen=True)
class RatioSums:
    """One arm's per-session sufficient statistics for a ratio metric (answers are clustered in
    sessions): n sessions with at least one answer; per session x = answers, y = metric sum;
    `count` = sum x, `count_sq` = sum x^2, `total` = sum y, `total_sq` = sum y^2, `cross` = sum xy.
    The per-answer mean is total / count; its variance comes from the delta method."""

    n: int
    count: float = 0.0
    count_sq: float = 0.0
    total: float = 0.0
    total_sq: float = 0.0
    cross: float = 0.0

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count > 0 else None

    @property
    def variance(self) -> float | None:
        """Per-session variance of the linearised metric (y - R x) / mean(x), ddof=1, so that the
        delta-method variance of the ratio R is variance / n. With one answer per session this is
        the per-answer sample variance. None below two sessions; rounding noise is clamped to 0."""
        if self.n < 2 or self.count <= 0:
            return None
        ratio = self.total / self.count
        # sum (y - R x)^2; sum (y - R x) is 0 by the definition of R, so this is the centred sum.
        resid_ss = self.total_sq - 2.0 * ratio * self.cross + ratio * ratio * self.count_sq
        if resid_ss <= self.total_sq * 1e-12:
            return 0.0
        mean_x = self.count / self.n
        return resid_ss / (self.n - 1) / (mean_x * mean_x)

    @classmethod
    def of(cls, counts: Any, totals: Any) -> RatioSums:
        """Sums from per-session answer counts and metric sums (sessions with no answer dropped)."""
        import numpy as np

        x = np.asarray(counts, dtype=float)
        y = np.asarray(totals, dtype=float)
        keep = x > 0
        x, y = x[keep], y[keep]
        return cls(int(x.size), float(x.sum()), float((x * x).sum()), float(y.sum()),
                   float((y * y).sum()), float((x * y).sum()))


@dataclass(frozen=True)
class NotEnoughData:
    """A typed "cannot say yet": why, and about how many more observations would help."""

    reason: str
    need_more: int | None = None
    enough: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class WelchResult:
    """Control vs treatment on one metric (diff = treatment - control)."""

    n_control: int
    n_treatment: int
    mean_control: float
    mean_treatment: float
    sd_control: float
    sd_treatment: float
    diff: float
    diff_ci: tuple[float, float]
    se: float
    df: float
    t: float
    p_value: float
    lift: float | None  # treatment / control - 1; None when the control mean is 0
    lift_ci: tuple[float, float] | None
    mde: float  # absolute difference detectable at 80 % power with the current sample sizes
    mde_relative: float | None
    chance_to_beat: float  # Bayesian P(treatment better), normal approximation, flat prior
    higher_is_better: bool
    alpha: float
    # Anytime-valid (sequential) interval and p-value: stay valid however often the dashboard
    # is looked at, at the price of a wider interval than the fixed-horizon one.
    seq_diff_ci: tuple[float, float] = (0.0, 0.0)
    seq_p_value: float = 1.0
    # "answer": every answer is one observation; "session": sessions are the observations (ratio
    # metric, delta method) and n_control / n_treatment count sessions.
    analysis_unit: str = "answer"
    enough: bool = True

    @property
    def significant(self) -> bool:
        return self.p_value < self.alpha

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["significant"] = self.significant
        return out


def compute_welch(control: ArmStats, treatment: ArmStats, *, alpha: float = ALPHA,
                  power: float = POWER, higher_is_better: bool = True) -> WelchResult | NotEnoughData:
    """Welch's unequal-variance t-test of treatment vs control from sufficient statistics.

    The difference interval uses the Welch-Satterthwaite df (as scipy's ttest_ind(equal_var=False)
    does); the relative lift's interval uses the delta method with the same critical value; the
    MDE uses normal quantiles (z_{1-alpha/2} + z_{power}) * SE. Returns NotEnoughData for an arm
    with fewer than two observations or when both arms have zero variance.
    """
    for name, arm in (("control", control), ("treatment", treatment)):
        if arm.n < 2:
            return NotEnoughData(f"{name} has {arm.n} observation{'s' if arm.n != 1 else ''}; "
                                 "at least 2 per arm are needed", need_more=2 - arm.n)
    return _compare(control.n, treatment.n, control.mean, treatment.mean, control.variance,
                    treatment.variance, alpha=alpha, power=power, higher_is_better=higher_is_better,
                    analysis_unit="answer")


def compute_ratio_comparison(control: RatioSums, treatment: RatioSums, *, alpha: float = ALPHA,
                             power: float = POWER,
                             higher_is_better: bool = True) -> WelchResult | NotEnoughData:
    """Treatment vs control on a per-answer mean when sessions are the randomisation unit.

    Each arm's mean is the ratio R = sum y / sum x over its sessions; its variance is the delta
    method's (var(y) - 2 R cov(x, y) + R^2 var(x)) / (n mean(x)^2), so correlated answers within a
    session no longer count as independent evidence. Everything else (Welch-Satterthwaite df over
    session counts, delta-method lift, MDE, anytime-valid interval) is as in compute_welch, which
    this equals when every session has exactly one answer. NotEnoughData below two sessions per
    arm or when every session of both arms has the same mean.
    """
    for name, arm in (("control", control), ("treatment", treatment)):
        if arm.n < 2 or arm.count <= 0:
            return NotEnoughData(f"{name} has {arm.n} session{'s' if arm.n != 1 else ''}; "
                                 "at least 2 sessions per arm are needed", need_more=max(1, 2 - arm.n))
    return _compare(control.n, treatment.n, control.mean, treatment.mean, control.variance,
                    treatment.variance, alpha=alpha, power=power, higher_is_better=higher_is_better,
                    analysis_unit="session")


def _compare(n_c: int, n_t: int, mc: float | None, mt: float | None, vc: float | None,
             vt: float | None, *, alpha: float, power: float, higher_is_better: bool,
             analysis_unit: str) -> WelchResult | NotEnoughData:
    """The shared test from per-unit means and variances (variance of the mean = v / n)."""
    assert vc is not None and vt is not None and mc is not None and mt is not None
    if not all(math.isfinite(v) for v in (vc, vt, mc, mt)):
        return NotEnoughData("the sums are not finite numbers")
    sc, st = vc / n_c, vt / n_t
    se2 = sc + st
    if se2 <= 0:
        what = "every value" if analysis_unit == "answer" else "every session's mean"
        return NotEnoughData(f"both arms have zero variance ({what} identical): no test possible")
    se = math.sqrt(se2)
    df = se2 * se2 / ((sc * sc / (n_c - 1) if sc else 0.0) + (st * st / (n_t - 1) if st else 0.0))
    diff = mt - mc
    t = diff / se
    p_value = min(1.0, 2.0 * t_sf(abs(t), df))
    crit = t_ppf(1.0 - alpha / 2.0, df)
    lift = lift_ci = None
    if mc != 0:
        lift = mt / mc - 1.0
        # Delta method for the ratio of two independent means.
        lift_se = math.sqrt(st / (mc * mc) + (mt * mt) * sc / (mc ** 4))
        lift_ci = (lift - crit * lift_se, lift + crit * lift_se)
    mde = (normal_ppf(1.0 - alpha / 2.0) + normal_ppf(power)) * se
    chance = normal_cdf(t if higher_is_better else -t)
    seq_half, seq_p = compute_sequential(diff, se, n_c + n_t, alpha=alpha)
    # The confidence sequence is asymptotic: on tiny samples it can be narrower than the exact
    # Welch interval, so it is never reported narrower (nor its p-value smaller) than that.
    seq_half, seq_p = max(seq_half, crit * se), max(seq_p, p_value)
    return WelchResult(
        n_control=n_c, n_treatment=n_t, mean_control=mc, mean_treatment=mt,
        sd_control=math.sqrt(vc), sd_treatment=math.sqrt(vt), diff=diff,
        diff_ci=(diff - crit * se, diff + crit * se), se=se, df=df, t=t, p_value=p_value,
        lift=lift, lift_ci=lift_ci, mde=mde, mde_relative=(mde / abs(mc)) if mc else None,
        chance_to_beat=chance, higher_is_better=higher_is_better, alpha=alpha,
        seq_diff_ci=(diff - seq_half, diff + seq_half), seq_p_value=seq_p, analysis_unit=analysis_unit)


SEQUENTIAL_TUNING_N = 5000  # total sample size at which the sequential interval is tightest


def compute_sequential(diff: float, se: float, n: int, *, alpha: float = ALPHA,
                       tuning_n: float = SEQUENTIAL_TUNING_N) -> tuple[float, float]:
    """(half-width, p-value) of the asymptotic confidence sequence of Waudby-Smith et al. (2023,
    "Time-uniform central limit theory", normal-mixture boundary), for an estimate `diff` with
    standard error `se` after `n` observations in total.

    With rho^2 = (-2 ln a + ln(1 - 2 ln a)) / tuning_n and s^2 = n se^2, the half-width is
    s * sqrt(2 (n rho^2 + 1) / (n^2 rho^2) * ln(sqrt(n rho^2 + 1) / a)); the p-value is the
    inverse of the mixture e-value exp(rho^2 n t^2 / (2 (n rho^2 + 1))) / sqrt(n rho^2 + 1),
    capped at 1, where t = diff / se.
    """
    log_a = math.log(alpha)
    rho2 = (-2.0 * log_a + math.log(1.0 - 2.0 * log_a)) / tuning_n
    v = n * rho2 + 1.0
    half = math.sqrt(n) * se * math.sqrt(2.0 * v / (n * n * rho2) * (0.5 * math.log(v) - log_a))
    t2 = (diff / se) ** 2
    log_e = rho2 * n * t2 / (2.0 * v) - 0.5 * math.log(v)
    return half, (1.0 if log_e <= 0 else math.exp(-log_e))


def compute_required_per_arm(control: ArmStats | RatioSums, treatment: ArmStats | RatioSums,
                             effect: float, *, alpha: float = ALPHA, power: float = POWER) -> int | None:
    """Units per arm (equal split) to detect an absolute `effect` with the observed variances:
    answers for ArmStats, sessions for RatioSums; None when the variances are unknown or the
    effect is not positive."""
    vc, vt = control.variance, treatment.variance
    if vc is None or vt is None or effect <= 0 or not math.isfinite(effect):
        return None
    z = normal_ppf(1.0 - alpha / 2.0) + normal_ppf(power)
    return max(2, math.ceil(z * z * (vc + vt) / (effect * effect)))


# ---------------------------------------------------------------------------------------------
# Sample ratio mismatch.

@dataclass(frozen=True)
class SrmResult:
    observed: dict[str, int]
    expected: dict[str, float]
    chi2: float | None
    p_value: float | None
    alert: bool
    checked: bool  # False until every arm has SRM_MIN_UNITS units
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compute_srm(observed: dict[str, int], expected_share: dict[str, float], *,
                alpha: float = SRM_ALPHA, min_units: int = SRM_MIN_UNITS) -> SrmResult:
    """Chi-square goodness of fit of the observed units per arm against the configured split.

    Alerts when p < `alpha`, and only once every arm has at least `min_units` units.
    Raises InputError when the expected shares are not positive or do not name the arms.
    """
    arms = list(expected_share)
    if not arms or any(not (expected_share[a] > 0) for a in arms):
        raise InputError(f"expected split {expected_share!r}: every share must be positive")
    counts = {a: int(observed.get(a, 0)) for a in arms}
    total = sum(counts.values())
    share_sum = sum(expected_share.values())
    expected = {a: total * expected_share[a] / share_sum for a in arms}
    small = [a for a in arms if counts[a] < min_units]
    if small:
        return SrmResult(counts, expected, None, None, False, False,
                         f"not enough data: SRM is checked once every arm has {min_units} units "
                         f"({', '.join(f'{a} has {counts[a]}' for a in small)})")
    chi2 = sum((counts[a] - expected[a]) ** 2 / expected[a] for a in arms)
    p_value = chi2_sf(chi2, len(arms) - 1)
    split = ", ".join(f"{a} {counts[a]} (expected {expected[a]:.0f})" for a in arms)
    if p_value < alpha:
        return SrmResult(counts, expected, chi2, p_value, True, True,
                         f"SAMPLE RATIO MISMATCH (p={p_value:.2g} < {alpha}): {split}. The split is off: "
                         "check bucketing, lost events or a bucket-dependent failure before trusting results")
    return SrmResult(counts, expected, chi2, p_value, False, True, f"split as expected (p={p_value:.3g}): {split}")


# ---------------------------------------------------------------------------------------------
# Figures shared with the SLO check.

@dataclass(frozen=True)
class PassRate:
    passed: int
    total: int
    rate: float | None
    ci: tuple[float, float] | None  # Wilson score interval

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compute_pass_rate(passed: int, total: int, *, alpha: float = ALPHA) -> PassRate:
    """Share passed with a Wilson interval (well behaved at 0 % and 100 %); rate None when empty."""
    if passed < 0 or total < 0 or passed > total:
        raise InputError(f"pass counts out of range: passed={passed}, total={total}")
    if total == 0:
        return PassRate(0, 0, None, None)
    p = passed / total
    z = normal_ppf(1.0 - alpha / 2.0)
    denom = 1.0 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return PassRate(passed, total, p, (max(0.0, centre - half), min(1.0, centre + half)))


@dataclass(frozen=True)
class BoundaryDrift:
    control_boundary: float
    treatment_boundary: float
    drift: float  # |treatment - control|

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compute_boundary_drift(state: AdaptiveState | None) -> BoundaryDrift | None:
    """How far the treatment boundary has moved from control, from the typed adaptive state
    (engine.routing.state.read_state, which has validated both boundaries). None when there is no
    state yet."""
    if state is None:
        return None
    control = state.buckets[CONTROL].boundary
    treatment = state.buckets[TREATMENT].boundary
    return BoundaryDrift(control, treatment, abs(treatment - control))
