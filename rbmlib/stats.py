"""Decision rules for the book's verdicts: one rule per claim shape, each recomputable from the raw numbers it saw.

Every rule takes per-seed (or per-fold) values and returns a ``Decision``. The rules (book page "How verdicts are
decided"):

- ``beats``: "A beats B". Paired differences d_i over seeds/folds, oriented so that d_i > 0 favours A. Reproduced
  only if the exact one-sided sign test rejects "no effect" at α = 0.05 (p = P[Binomial(n, ½) ≥ k], k pairs
  favouring A of the n untied pairs) **and** the mean effect reaches the minimum effect stated before the run; not
  reproduced if the sign test is significant the other way; otherwise inconclusive. The sign test needs n ≥ 5
  untied pairs to reach 0.05 at all (½⁵ = 0.031).
- ``beats_bounded``: "A beats B" when each seed's value is only known to lie in an interval (a log-probability
  between its reverse- and forward-AIS estimates): a pair counts for A only if A's interval lies wholly above B's.
- ``not_worse``: "A is not worse than B by more than a margin", only where the paper itself claims it: the sign
  test of d_i + margin > 0; not reproduced if d_i + margin < 0 is significant.
- ``reaches``: "our value is within a tolerance of the paper's", for **verified** paper numbers only
  (UNVERIFIED and secondary numbers are context, never targets).
- ``at_least`` / ``at_most`` / ``within``: sanity checks (identities, derivations, "the model learned something"):
  a separate kind, never counted as reproductions.

An inconclusive verdict says what would decide it: ``pairs_needed`` is the number of pairs for which the sign test
would reject with probability ≥ 0.8 if the differences were normal with the observed spread and a mean equal to the
larger of the minimum effect and the observed mean effect.
"""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Sequence

ALPHA = 0.05
POWER = 0.8
MAX_PAIRS = 1000  # pairs_needed looks no further


class Outcome(str, enum.Enum):
    """A verdict's outcome. The first four are for claims of a paper, the last two for sanity checks."""

    REPRODUCED = "reproduced"
    NOT_REPRODUCED = "not reproduced"
    INCONCLUSIVE = "inconclusive at this scale"
    NOT_TESTABLE = "not testable here"
    CHECK_PASSED = "check passed"
    CHECK_FAILED = "check failed"

    @property
    def is_check(self) -> bool:
        return self in (Outcome.CHECK_PASSED, Outcome.CHECK_FAILED)

    @property
    def mark(self) -> str:
        return {"reproduced": "✅", "not reproduced": "❌", "inconclusive at this scale": "❔",
                "not testable here": "➖", "check passed": "✔", "check failed": "✘"}[self.value]


@dataclass(frozen=True)
class Decision:
    """What a rule concluded (``outcome``), the numbers it saw (``evidence``), the rule in words (``rule``) and why
    this outcome (``reason``: for an inconclusive claim, what would decide it)."""

    outcome: Outcome
    evidence: str
    rule: str
    reason: str = ""


def _floats(values: Sequence[float], name: str) -> list[float]:
    out = [float(v) for v in values]
    if not out:
        raise ValueError(f"{name} is empty: a verdict needs at least one raw value")
    if not all(math.isfinite(v) for v in out):
        raise ValueError(f"{name} has a non-finite value: {out}")
    return out


def mean_se(values: Sequence[float]) -> tuple[float, float, int]:
    """(mean, standard error s/√n with s the sample standard deviation, n); se is nan for n = 1."""
    x = _floats(values, "values")
    n = len(x)
    mean = math.fsum(x) / n
    if n == 1:
        return mean, math.nan, 1
    var = math.fsum((v - mean) ** 2 for v in x) / (n - 1)
    return mean, math.sqrt(var / n), n


def format_mean_se(values: Sequence[float], scale: float = 1.0, digits: int = 2, unit: str = "") -> str:
    """'m ± se (n = k)' in one style for every table of the book ('m (n = 1)' for one value)."""
    mean, se, n = mean_se(values)
    text = f"{scale * mean:.{digits}f}" + ("" if n == 1 else f" ± {scale * se:.{digits}f}")
    return f"{text}{unit} (n = {n})"


def _binomial_tail(n: int, k: int) -> float:
    """P[Binomial(n, ½) ≥ k], exactly."""
    return math.fsum(math.comb(n, i) for i in range(max(k, 0), n + 1)) / 2.0 ** n


def sign_test(differences: Sequence[float]) -> tuple[float, int, int]:
    """One-sided exact sign test of "the differences are positive": (p, k positive, n untied). Ties are dropped."""
    d = _floats(differences, "differences")
    k = sum(v > 0 for v in d)
    n = k + sum(v < 0 for v in d)
    return (_binomial_tail(n, k) if n else 1.0), k, n


def _critical_count(n: int, alpha: float) -> int | None:
    """The smallest k with P[Binomial(n, ½) ≥ k] ≤ α, or None when no k reaches it."""
    for k in range(n + 1):
        if _binomial_tail(n, k) <= alpha:
            return k
    return None


def pairs_needed(differences: Sequence[float], min_effect: float, alpha: float = ALPHA,
                 power: float = POWER) -> int | None:
    """Pairs for which the sign test rejects with probability ≥ ``power`` if the differences were normal with the
    observed standard deviation and mean max(min_effect, observed mean); None when more than ``MAX_PAIRS``."""
    import numpy as np
    from scipy.stats import binom

    d = _floats(differences, "differences")
    mean = math.fsum(d) / len(d)
    effect = max(min_effect, mean)
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in d) / (len(d) - 1)) if len(d) > 1 else 0.0
    if effect <= 0:
        return None
    p_plus = 1.0 if sd == 0 else 0.5 * (1.0 + math.erf(effect / (sd * math.sqrt(2.0))))
    n = np.arange(1, MAX_PAIRS + 1)
    k = binom.isf(alpha, n, 0.5) + 1  # the smallest k with P[Binomial(n, ½) ≥ k] ≤ α (when k ≤ n)
    k = np.where(binom.sf(k - 2, n, 0.5) <= alpha, k - 1, k)  # guard against rounding in isf
    reject = np.where(k <= n, binom.sf(k - 1, n, p_plus), 0.0)
    hits = np.flatnonzero(reject >= power)
    return int(n[hits[0]]) if hits.size else None


def _paired(a: Sequence[float], b: Sequence[float], lower_is_better: bool) -> list[float]:
    a, b = _floats(a, "a"), _floats(b, "b")
    if len(a) != len(b):
        raise ValueError(f"paired values need equal lengths, got {len(a)} and {len(b)}")
    return [(y - x) if lower_is_better else (x - y) for x, y in zip(a, b)]


def _effect_text(d: list[float], scale: float, digits: int, unit: str) -> str:
    return f"effect {format_mean_se(d, scale, digits, unit)}"


def beats(a: Sequence[float], b: Sequence[float], *, min_effect: float, lower_is_better: bool = True,
          scale: float = 1.0, digits: int = 2, unit: str = "", resolution: float | None = None,
          baseline_learned: float | None = None, a_unvalidated: str | None = None,
          b_unvalidated: str | None = None, alpha: float = ALPHA) -> Decision:
    """"A beats B" over paired seeds/folds: a[i] and b[i] share seed/fold i.

    ``min_effect`` is the smallest mean improvement (in the units of a and b) that counts, stated before the run;
    ``scale``/``digits``/``unit`` format numbers (e.g. 100, 2, " pp" for error rates). ``resolution`` is one test
    example in those units (1/n_test for an error rate): the minimum effect must be at least two of them, so that no
    claim rests on one image. ``baseline_learned``, stated before the run, is the value B's mean must be better than
    for B to count as having learned (e.g. a test error well below chance): a baseline that never left chance proves
    nothing, so the claim is then inconclusive whatever A does.

    ``a_unvalidated`` / ``b_unvalidated``, given under a rule stated before the run (e.g. "the chosen learning rate is
    inside the grid and the best epoch is not the last"): why A's / B's setting was not validated by that rule, ""
    when it was. A better-tuned B might close the gap, and a better-tuned A might open one, so "reproduced" needs B
    validated and "not reproduced" needs A validated; otherwise the claim is inconclusive, with the reason.
    """
    if not min_effect > 0:
        raise ValueError(f"min_effect must be > 0, got {min_effect}")
    if resolution is not None and min_effect < 2 * resolution:
        raise ValueError(f"min_effect {min_effect:g} is less than two test examples ({2 * resolution:g})")
    d = _paired(a, b, lower_is_better)
    mean = math.fsum(d) / len(d)
    p, k, n = sign_test(d)
    p_other, _, _ = sign_test([-v for v in d])
    rule = (f"paired sign test over seeds/folds, one-sided α = {alpha:g}, and mean effect ≥ "
            f"{scale * min_effect:.{digits}f}{unit}")
    evidence = f"{_effect_text(d, scale, digits, unit)}; A better in {k} of {n} untied pairs, p = {p:.3f}"
    if resolution is not None:
        evidence += f" ({abs(mean) / resolution:.1f} test examples)"
    rule += _learned_rule(baseline_learned, lower_is_better, scale, digits, unit)
    if a_unvalidated is not None or b_unvalidated is not None:
        rule += "; reproduced only if B's setting was validated, not reproduced only if A's was"
    unlearned = _unlearned(b, baseline_learned, lower_is_better, scale, digits, unit)
    if unlearned:
        return Decision(Outcome.INCONCLUSIVE, evidence, rule, unlearned)
    if p <= alpha and mean >= min_effect:
        if b_unvalidated:
            return Decision(Outcome.INCONCLUSIVE, evidence, rule, f"A beats B as tuned, but B's setting was not "
                                                                  f"validated ({b_unvalidated})")
        return Decision(Outcome.REPRODUCED, evidence, rule)
    if p_other <= alpha:
        if a_unvalidated:
            return Decision(Outcome.INCONCLUSIVE, evidence, rule, f"B beats A as tuned, but A's setting was not "
                                                                  f"validated ({a_unvalidated})")
        return Decision(Outcome.NOT_REPRODUCED, evidence, rule, "significant in the opposite direction")
    return Decision(Outcome.INCONCLUSIVE, evidence, rule, _undecided(d, p, n, min_effect, alpha, scale, digits, unit))


def _level(value, scale, digits, unit) -> str:
    """A level (not a difference): percentage points become per cent."""
    return f"{scale * value:.{digits}f}{'%' if unit.strip() == 'pp' else unit}"


def _learned_rule(baseline_learned, lower_is_better, scale, digits, unit) -> str:
    if baseline_learned is None:
        return ""
    side = "below" if lower_is_better else "above"
    return f", with B's mean {side} {_level(baseline_learned, scale, digits, unit)} (B learned)"


def _unlearned(b, baseline_learned, lower_is_better, scale, digits, unit) -> str:
    """Why B counts as never having learned (its mean not better than ``baseline_learned``), or ""."""
    if baseline_learned is None:
        return ""
    b = _floats(b, "b")
    b_mean = math.fsum(b) / len(b)
    if (b_mean < baseline_learned) if lower_is_better else (b_mean > baseline_learned):
        return ""
    side = "below" if lower_is_better else "above"
    return (f"B never learned: its mean is {_level(b_mean, scale, digits, unit)}, not {side} "
            f"{_level(baseline_learned, scale, digits, unit)}; a baseline that never left chance proves nothing")


def _undecided(d, p, n, min_effect, alpha, scale, digits, unit, offset=0.0) -> str:
    """Why the sign test on the differences ``d`` (shifted by ``offset``, a non-inferiority margin, from the claim's
    own differences) left the claim open, and about how many pairs would decide it; when the observed mean falls
    short of ``min_effect``, that count assumes the true shifted effect is ``min_effect``, and the text says so in
    the claim's units."""
    mean = math.fsum(d) / len(d)
    if p <= alpha:
        why = f"significant, but the mean effect is below the minimum {scale * min_effect:.{digits}f}{unit}"
    elif _critical_count(n, alpha) is None:
        why = f"{n} untied pairs cannot reach α = {alpha:g} with a sign test (it needs ≥ 5)"
    else:
        why = f"p = {p:.3f} > {alpha:g}"
    if len(d) == 1:
        return why + "; the observed spread gives no estimate of the pairs needed"
    needed = pairs_needed(d, min_effect, alpha)
    if needed is None:
        return why + f"; more than {MAX_PAIRS} pairs would be needed at the observed spread"
    if mean >= min_effect:
        return why + f"; about {needed} pairs would decide it at the observed effect and spread"
    return why + (f"; about {needed} pairs would decide it at the observed spread if the true effect were "
                  f"{scale * (min_effect - offset):.{digits}f}{unit}")


def beats_bounded(a_low: Sequence[float], a_high: Sequence[float], b_low: Sequence[float],
                  b_high: Sequence[float], *, min_effect: float, digits: int = 2, unit: str = "",
                  not_learned: str = "", untrusted: str | None = None, alpha: float = ALPHA) -> Decision:
    """"A beats B" (higher is better) when each seed's value is known only to lie in an interval [low, high], e.g.
    a test log-probability between its reverse-AIS and forward-AIS estimates.

    ``not_learned``, when given, says which of the two models never learned (by a check the chapter fixed before
    the run, on another measure than the one compared): the claim is then inconclusive, since a model that learned
    nothing tests nothing about its method. ``untrusted``, given under a rule stated before the run (e.g. "the
    estimator that gives the intervals' bottoms passed its exact check"): why the intervals cannot be trusted by that
    rule, "" when they can; the claim is then inconclusive whatever the intervals say.

    Pair i favours A only if A's interval lies wholly above B's (a_low − b_high > 0), and B only if wholly below;
    overlapping pairs favour neither but still count in n. Reproduced if P[Binomial(n, ½) ≥ k_A] ≤ α and the
    mean of the conservative effects a_low − b_high reaches ``min_effect``; not reproduced if
    P[Binomial(n, ½) ≥ k_B] ≤ α; otherwise inconclusive.
    """
    if not min_effect > 0:
        raise ValueError(f"min_effect must be > 0, got {min_effect}")
    columns = [_floats(c, name) for c, name in ((a_low, "a_low"), (a_high, "a_high"), (b_low, "b_low"),
                                                 (b_high, "b_high"))]
    if len({len(c) for c in columns}) != 1:
        raise ValueError(f"paired intervals need equal lengths, got {[len(c) for c in columns]}")
    al, ah, bl, bh = columns
    if any(lo > hi for lo, hi in [*zip(al, ah), *zip(bl, bh)]):
        raise ValueError("every interval needs low <= high")
    n = len(al)
    worst = [x - y for x, y in zip(al, bh)]  # the effect if A sits at its bottom and B at its top
    best = [x - y for x, y in zip(ah, bl)]
    k_a, k_b = sum(w > 0 for w in worst), sum(b < 0 for b in best)
    p_a, p_b = _binomial_tail(n, k_a), _binomial_tail(n, k_b)
    rule = (f"paired sign test over seeds on interval estimates (a pair counts for A only if A's interval lies "
            f"wholly above B's), one-sided α = {alpha:g}, and conservative mean effect ≥ {min_effect:.{digits}f}{unit}")
    evidence = (f"effect between {format_mean_se(worst, 1.0, digits, unit)} and "
                f"{format_mean_se(best, 1.0, digits, unit)}; A above B in {k_a}, below in {k_b}, overlapping in "
                f"{n - k_a - k_b} of {n} pairs, p = {p_a:.3f}")
    if untrusted is not None:
        rule += ", with the intervals' estimators passing their check"
    if not_learned:
        return Decision(Outcome.INCONCLUSIVE, evidence, rule, f"{not_learned}: a model that never learned tests "
                                                              "nothing about its method")
    if untrusted:
        return Decision(Outcome.INCONCLUSIVE, evidence, rule, f"the intervals are not trusted: {untrusted}")
    if p_a <= alpha and math.fsum(worst) / n >= min_effect:
        return Decision(Outcome.REPRODUCED, evidence, rule)
    if p_b <= alpha:
        return Decision(Outcome.NOT_REPRODUCED, evidence, rule, "B's interval lies above A's in significantly many pairs")
    if n < 5:
        why = f"{n} pairs cannot reach α = {alpha:g} with a sign test (it needs ≥ 5)"
    elif n - k_a - k_b:
        why = (f"the intervals overlap in {n - k_a - k_b} of {n} pairs: tighter estimates (a longer AIS schedule, more "
               "runs, longer chains) are needed before more seeds can decide")
    else:
        why = f"p = {p_a:.3f} > {alpha:g}"
    return Decision(Outcome.INCONCLUSIVE, evidence, rule, why)


def not_worse(a: Sequence[float], b: Sequence[float], *, margin: float, lower_is_better: bool = True,
              scale: float = 1.0, digits: int = 2, unit: str = "", baseline_learned: float | None = None,
              alpha: float = ALPHA) -> Decision:
    """"A is not worse than B by more than ``margin``" (non-inferiority), for claims the paper makes in that form.
    ``baseline_learned`` as in ``beats``: matching a B that never learned is no evidence either."""
    if not margin > 0:
        raise ValueError(f"margin must be > 0, got {margin}")
    d = _paired(a, b, lower_is_better)
    shifted = [v + margin for v in d]
    p, k, n = sign_test(shifted)
    p_other, _, _ = sign_test([-v for v in shifted])
    rule = (f"paired sign test that A is worse than B by less than {scale * margin:.{digits}f}{unit}, "
            f"one-sided α = {alpha:g}")
    evidence = f"{_effect_text(d, scale, digits, unit)}; within the margin in {k} of {n} untied pairs, p = {p:.3f}"
    rule += _learned_rule(baseline_learned, lower_is_better, scale, digits, unit)
    unlearned = _unlearned(b, baseline_learned, lower_is_better, scale, digits, unit)
    if unlearned:
        return Decision(Outcome.INCONCLUSIVE, evidence, rule, unlearned)
    if p <= alpha:
        return Decision(Outcome.REPRODUCED, evidence, rule)
    if p_other <= alpha:
        return Decision(Outcome.NOT_REPRODUCED, evidence, rule, "A is significantly worse than the margin allows")
    return Decision(Outcome.INCONCLUSIVE, evidence, rule,
                    _undecided(shifted, p, n, margin, alpha, scale, digits, unit, offset=margin))


LABELS = ("verified", "UNVERIFIED", "secondary")


def reaches(values: Sequence[float], paper_value: float, *, tolerance: float, label: str, scale: float = 1.0,
            digits: int = 2, unit: str = "") -> Decision:
    """"We reach the paper's value": reproduced if ``|mean − paper|`` ≤ tolerance and the mean ± 2 s.e. lies inside
    paper ± tolerance; not reproduced if the mean ± 2 s.e. lies wholly outside it; else inconclusive.
    Only a ``verified`` paper number may be a target (``label``)."""
    if label not in LABELS:
        raise ValueError(f"label must be one of {LABELS}, got {label!r}")
    if label != "verified":
        raise ValueError(f"a {label} paper number is context, never a target: use it beside ours, not in a rule")
    mean, se, n = mean_se(values)
    half = 0.0 if n == 1 else 2 * se
    low, high = mean - half, mean + half
    rule = f"mean within ±{scale * tolerance:.{digits}f}{unit} of the paper's verified value (mean ± 2 s.e.)"
    evidence = f"{format_mean_se(values, scale, digits, unit)} vs {scale * paper_value:.{digits}f}{unit}"
    if paper_value - tolerance <= low and high <= paper_value + tolerance:
        return Decision(Outcome.REPRODUCED, evidence, rule)
    if high < paper_value - tolerance or low > paper_value + tolerance:
        return Decision(Outcome.NOT_REPRODUCED, evidence, rule)
    return Decision(Outcome.INCONCLUSIVE, evidence, rule, "mean ± 2 s.e. straddles the tolerance's edge")


def _check(ok: bool, evidence: str, rule: str) -> Decision:
    return Decision(Outcome.CHECK_PASSED if ok else Outcome.CHECK_FAILED, evidence, rule)


def at_least(value: float, limit: float, *, digits: int = 2, unit: str = "", scale: float = 1.0) -> Decision:
    """Sanity check: value ≥ limit."""
    return _check(value >= limit, f"{scale * value:.{digits}f}{unit}", f"≥ {scale * limit:.{digits}f}{unit}")


def at_most(value: float, limit: float, *, digits: int = 2, unit: str = "", scale: float = 1.0) -> Decision:
    """Sanity check: value ≤ limit."""
    return _check(value <= limit, f"{scale * value:.{digits}f}{unit}", f"≤ {scale * limit:.{digits}f}{unit}")


def within(value: float, target: float, tolerance: float, *, digits: int = 2, unit: str = "") -> Decision:
    """Sanity check: ``|value − target|`` ≤ tolerance (an identity or a derivation)."""
    return _check(abs(value - target) <= tolerance, f"{value:.{digits}f}{unit} vs {target:.{digits}f}{unit}",
                  f"within ±{tolerance:g}{unit} of {target:.{digits}f}{unit}")


def not_testable(reason: str) -> Decision:
    """A claim this book cannot test (data or compute unavailable), with the reason."""
    return Decision(Outcome.NOT_TESTABLE, "—", "—", reason)


RULES = {f.__name__: f for f in (beats, beats_bounded, not_worse, reaches, at_least, at_most, within, not_testable)}


def decide(rule: str, inputs: dict) -> Decision:
    """Recompute a decision from a rule's name and the keyword inputs stored with it in a results file."""
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; rules are {', '.join(RULES)}")
    return RULES[rule](**inputs)
