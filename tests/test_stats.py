"""rbmlib.stats: the decision rules of the book's verdicts, checked against exact binomial answers and scipy."""
import math

import pytest
from scipy import stats as scipy_stats

from rbmlib import stats
from rbmlib.stats import Outcome


@pytest.mark.parametrize("k,n", [(5, 5), (4, 5), (6, 7), (0, 3), (9, 12), (3, 3)])
def test_sign_test_is_the_exact_binomial_tail(k, n):
    d = [1.0] * k + [-1.0] * (n - k) + [0.0, 0.0]  # ties are dropped
    p, positive, untied = stats.sign_test(d)
    assert (positive, untied) == (k, n)
    assert p == pytest.approx(scipy_stats.binomtest(k, n, 0.5, alternative="greater").pvalue, rel=1e-12)


def test_five_pairs_is_the_least_that_can_reach_alpha():
    assert stats.sign_test([1.0] * 4)[0] == 1 / 16 and stats.sign_test([1.0] * 5)[0] == 1 / 32
    assert stats._critical_count(4, 0.05) is None and stats._critical_count(5, 0.05) == 5


def test_mean_se_is_the_sample_standard_error():
    mean, se, n = stats.mean_se([1.0, 2.0, 4.0])
    assert (mean, n) == (7 / 3, 3) and se == pytest.approx(math.sqrt((16 / 9 + 1 / 9 + 25 / 9) / 2 / 3))
    assert math.isnan(stats.mean_se([0.5])[1])
    assert stats.format_mean_se([0.1, 0.2], scale=100, digits=1, unit="%") == "15.0 ± 5.0% (n = 2)"
    assert stats.format_mean_se([0.5]) == "0.50 (n = 1)"
    with pytest.raises(ValueError, match="empty"):
        stats.mean_se([])
    with pytest.raises(ValueError, match="non-finite"):
        stats.mean_se([1.0, float("nan")])


A_BETTER = dict(a=[0.10, 0.11, 0.09, 0.10, 0.12], b=[0.20, 0.20, 0.20, 0.20, 0.20])


def test_beats_needs_significance_and_the_minimum_effect():
    assert stats.beats(**A_BETTER, min_effect=0.05).outcome is Outcome.REPRODUCED
    small = stats.beats(**A_BETTER, min_effect=0.2)  # significant, but below the stated minimum effect
    assert small.outcome is Outcome.INCONCLUSIVE and "below the minimum" in small.reason
    reverse = stats.beats(A_BETTER["b"], A_BETTER["a"], min_effect=0.05)
    assert reverse.outcome is Outcome.NOT_REPRODUCED and "opposite" in reverse.reason
    higher = stats.beats([0.8] * 5, [0.7] * 5, min_effect=0.05, lower_is_better=False)
    assert higher.outcome is Outcome.REPRODUCED


def test_a_null_effect_is_never_reproduced():
    null = stats.beats([0.5, 0.6, 0.5, 0.6, 0.5, 0.6], [0.6, 0.5, 0.6, 0.5, 0.6, 0.5], min_effect=0.01)
    assert null.outcome is Outcome.INCONCLUSIVE and "p = " in null.reason


def test_too_few_pairs_are_inconclusive_and_say_how_many_would_decide():
    three = stats.beats([0.1, 0.11, 0.12], [0.2, 0.22, 0.21], min_effect=0.05)
    assert three.outcome is Outcome.INCONCLUSIVE
    assert "cannot reach" in three.reason and "about 5 pairs" in three.reason
    one = stats.beats([0.1], [0.2], min_effect=0.05)
    assert one.outcome is Outcome.INCONCLUSIVE and "no estimate" in one.reason


def test_the_pairs_needed_text_names_the_effect_it_assumes():
    short = stats.beats([0.10, 0.12, 0.11], [0.105, 0.118, 0.12], min_effect=0.05, scale=100, unit=" pp")
    assert "if the true effect were 5.00 pp" in short.reason  # observed mean 0.1 pp < the minimum: assumed
    clear = stats.beats([0.1, 0.11, 0.12], [0.2, 0.22, 0.21], min_effect=0.05)
    assert "at the observed effect and spread" in clear.reason
    worse = stats.not_worse([0.21, 0.20, 0.22], [0.20, 0.20, 0.20], margin=0.05, scale=100, unit=" pp")
    assert worse.outcome is Outcome.INCONCLUSIVE
    assert "if the true effect were 0.00 pp" in worse.reason  # A truly equal to B, not the margin
    assert f"about {stats.pairs_needed([v + 0.05 for v in (-0.01, 0.0, -0.02)], 0.05)} pairs" in worse.reason
    better = stats.not_worse([0.19, 0.17, 0.21], [0.20, 0.20, 0.20], margin=0.05)  # A ahead: its observed effect
    assert "at the observed effect and spread" in better.reason
    assert f"about {stats.pairs_needed([0.06, 0.08, 0.04], 0.05)} pairs" in better.reason


def test_a_baseline_that_never_learned_leaves_the_claim_inconclusive():
    a, at_chance = [0.05, 0.06, 0.05, 0.06, 0.05], [0.88, 0.89, 0.90, 0.88, 0.89]
    assert stats.beats(a, at_chance, min_effect=0.005).outcome is Outcome.REPRODUCED
    guarded = stats.beats(a, at_chance, min_effect=0.005, baseline_learned=0.5, scale=100, unit="%")
    assert guarded.outcome is Outcome.INCONCLUSIVE and "B never learned: its mean is 88.80%" in guarded.reason
    assert "B's mean below 50.00%" in guarded.rule
    learned = [0.10, 0.11, 0.12, 0.10, 0.11]
    assert stats.beats(a, learned, min_effect=0.005, baseline_learned=0.5).outcome is Outcome.REPRODUCED
    accuracy = stats.beats([0.9] * 5, [0.2] * 5, min_effect=0.05, lower_is_better=False, baseline_learned=0.25)
    assert accuracy.outcome is Outcome.INCONCLUSIVE and "not above 0.25" in accuracy.reason
    assert stats.decide("beats", dict(a=a, b=at_chance, min_effect=0.005, baseline_learned=0.5)) == stats.beats(
        a, at_chance, min_effect=0.005, baseline_learned=0.5)
    as_bad = stats.not_worse(at_chance, at_chance, margin=0.01)  # matching a chance-level B: trivially "as good"
    assert as_bad.outcome is Outcome.REPRODUCED
    guarded = stats.not_worse(at_chance, at_chance, margin=0.01, baseline_learned=0.5)
    assert guarded.outcome is Outcome.INCONCLUSIVE and "B never learned" in guarded.reason
    assert stats.not_worse(learned, learned, margin=0.01, baseline_learned=0.5).outcome is Outcome.REPRODUCED


def test_ties_do_not_count_towards_the_five_pairs_a_sign_test_needs():
    tied = stats.beats([0.1, 0.1, 0.1, 0.1, 0.2], [0.2, 0.2, 0.2, 0.2, 0.2], min_effect=0.05)
    assert tied.outcome is Outcome.INCONCLUSIVE and "4 untied pairs cannot reach" in tied.reason


def test_a_baseline_exactly_at_the_limit_has_not_learned():
    at_limit = stats.beats([0.25] * 5, [0.5] * 5, min_effect=0.05, baseline_learned=0.5)
    assert at_limit.outcome is Outcome.INCONCLUSIVE and "B never learned" in at_limit.reason
    higher = stats.beats([0.75] * 5, [0.5] * 5, min_effect=0.05, lower_is_better=False, baseline_learned=0.5)
    assert higher.outcome is Outcome.INCONCLUSIVE and "not above" in higher.reason


def test_an_interval_claim_on_a_model_that_never_learned_is_inconclusive():
    below = dict(a_low=[0.0] * 5, a_high=[1.0] * 5, b_low=[2.0] * 5, b_high=[3.0] * 5, min_effect=0.5)
    assert stats.beats_bounded(**below).outcome is Outcome.NOT_REPRODUCED
    unlearned = stats.beats_bounded(**below, not_learned="A: no better than the base-rate model in 5 of 5 seeds")
    assert unlearned.outcome is Outcome.INCONCLUSIVE
    assert unlearned.reason.startswith("A: no better than the base-rate model in 5 of 5 seeds: a model that never")
    assert stats.decide("beats_bounded", dict(below, not_learned="x")).outcome is Outcome.INCONCLUSIVE


def test_pairs_needed_grows_with_noise_and_matches_a_direct_power_computation():
    quiet = stats.pairs_needed([1.0, 1.1, 0.9], min_effect=1.0)
    noisy = stats.pairs_needed([1.0, 3.0, -1.0], min_effect=1.0)
    assert quiet == 5 and noisy > quiet
    # direct: P[sign test rejects] at n = noisy with p+ = Φ(1/2) must reach 0.8, and not at n − 1
    p_plus = scipy_stats.norm.cdf(1.0 / 2.0)

    def power(n):
        k = stats._critical_count(n, 0.05)
        return 0.0 if k is None else scipy_stats.binom.sf(k - 1, n, p_plus)

    assert power(noisy) >= 0.8 > max(power(m) for m in range(1, noisy))
    assert stats.pairs_needed([-1.0, -2.0], min_effect=0.0) is None


def test_one_test_example_cannot_decide_a_claim():
    with pytest.raises(ValueError, match="two test examples"):
        stats.beats(**A_BETTER, min_effect=0.0005, resolution=1 / 2000)
    decision = stats.beats(**A_BETTER, min_effect=0.05, resolution=1 / 2000)
    assert "(192.0 test examples)" in decision.evidence  # mean effect 0.096 of 2,000 images


def test_not_worse_within_and_beyond_the_margin():
    a, b = [0.105, 0.101, 0.103, 0.104, 0.102], [0.10] * 5  # A slightly worse, within a 1 pp margin
    assert stats.not_worse(a, b, margin=0.01).outcome is Outcome.REPRODUCED
    assert stats.not_worse([0.2] * 5, b, margin=0.01).outcome is Outcome.NOT_REPRODUCED
    assert stats.not_worse(a[:3], b[:3], margin=0.01).outcome is Outcome.INCONCLUSIVE


def test_reaches_takes_verified_numbers_only():
    assert stats.reaches([0.0125, 0.0127, 0.0126], 0.0125, tolerance=0.001, label="verified").outcome \
        is Outcome.REPRODUCED
    assert stats.reaches([0.05, 0.051], 0.0125, tolerance=0.001, label="verified").outcome is Outcome.NOT_REPRODUCED
    assert stats.reaches([0.0125, 0.0145], 0.0125, tolerance=0.001, label="verified").outcome is Outcome.INCONCLUSIVE
    for label in ("UNVERIFIED", "secondary"):
        with pytest.raises(ValueError, match="never a target"):
            stats.reaches([1.0], 1.0, tolerance=0.1, label=label)


def test_checks_are_their_own_kind():
    assert stats.within(-21.0, -21, 0.1).outcome is Outcome.CHECK_PASSED
    assert stats.at_least(0.5, 0.6).outcome is Outcome.CHECK_FAILED and stats.at_most(0.5, 0.6).outcome.is_check
    assert not Outcome.REPRODUCED.is_check and stats.not_testable("no data").outcome is Outcome.NOT_TESTABLE


def test_decide_recomputes_by_rule_name():
    assert stats.decide("beats", dict(A_BETTER, min_effect=0.05)) == stats.beats(**A_BETTER, min_effect=0.05)
    with pytest.raises(ValueError, match="unknown rule"):
        stats.decide("majority", {})


def test_beats_bounded_credits_a_pair_only_when_the_intervals_separate():
    low, high = [0.0] * 5, [1.0] * 5
    above = stats.beats_bounded([2.0] * 5, [3.0] * 5, low, high, min_effect=0.5)
    assert above.outcome is Outcome.REPRODUCED and "A above B in 5, below in 0" in above.evidence
    below = stats.beats_bounded(low, high, [2.0] * 5, [3.0] * 5, min_effect=0.5)
    assert below.outcome is Outcome.NOT_REPRODUCED
    # point estimates favour A in every pair, but the intervals overlap: no pair can be credited
    overlap = stats.beats_bounded([0.5] * 5, [5.0] * 5, [-5.0] * 5, [0.6] * 5, min_effect=0.01)
    assert overlap.outcome is Outcome.INCONCLUSIVE and "overlap in 5 of 5" in overlap.reason
    assert stats.beats_bounded([2.0] * 5, [3.0] * 5, low, high, min_effect=1.5).outcome is Outcome.INCONCLUSIVE
    with pytest.raises(ValueError, match="low <= high"):
        stats.beats_bounded([1.0] * 5, [0.0] * 5, low, high, min_effect=0.5)
    assert stats.decide("beats_bounded", dict(a_low=[2.0] * 5, a_high=[3.0] * 5, b_low=low, b_high=high,
                                              min_effect=0.5)).outcome is Outcome.REPRODUCED


def test_reaches_uses_mean_plus_minus_two_standard_errors():
    """values (1.0, 1.2): mean 1.1, s.e. 0.1. Paper 1.1 ± 0.15: mean ± 2 s.e. = [0.9, 1.3] straddles [0.95, 1.25]
    (inconclusive), although mean ± 1 s.e. = [1.0, 1.2] would lie inside it."""
    straddles = stats.reaches([1.0, 1.2], 1.1, tolerance=0.15, label="verified")
    assert straddles.outcome is Outcome.INCONCLUSIVE
    assert stats.reaches([1.0, 1.2], 1.1, tolerance=0.21, label="verified").outcome is Outcome.REPRODUCED
    # paper 1.45 ± 0.1 = [1.35, 1.55]: mean + 2 s.e. = 1.3 lies wholly below it (not reproduced); paper 1.3 ± 0.05
    # = [1.25, 1.35]: 1.3 reaches it (inconclusive), although mean + 1 s.e. = 1.2 would not
    assert stats.reaches([1.0, 1.2], 1.45, tolerance=0.1, label="verified").outcome is Outcome.NOT_REPRODUCED
    assert stats.reaches([1.0, 1.2], 1.3, tolerance=0.05, label="verified").outcome is Outcome.INCONCLUSIVE


def test_alpha_is_five_percent():
    """Four of four pairs (p = 1/16 = 0.0625) do not reach α = 0.05; five of five (p = 1/32) do."""
    assert stats.ALPHA == 0.05
    four = stats.beats([0.1] * 4, [0.2] * 4, min_effect=0.05)
    assert four.outcome is Outcome.INCONCLUSIVE and "α = 0.05" in four.rule
    assert stats.beats([0.1] * 5, [0.2] * 5, min_effect=0.05).outcome is Outcome.REPRODUCED


def test_an_unvalidated_setting_blocks_only_the_verdict_it_could_overturn():
    better = dict(a=[0.10] * 5, b=[0.20] * 5, min_effect=0.01)  # A beats B in every pair
    worse = dict(a=[0.20] * 5, b=[0.10] * 5, min_effect=0.01)  # B beats A in every pair
    assert stats.beats(**better, a_unvalidated="", b_unvalidated="").outcome is Outcome.REPRODUCED
    # a ✅ needs B validated: a better-tuned B might close the gap; A's tuning cannot undo a ✅
    blocked = stats.beats(**better, a_unvalidated="", b_unvalidated="B: rate at an end of the grid in seed 3")
    assert blocked.outcome is Outcome.INCONCLUSIVE
    assert "B's setting was not validated (B: rate at an end of the grid in seed 3)" in blocked.reason
    assert stats.beats(**better, a_unvalidated="A: best epoch the last", b_unvalidated="").outcome \
        is Outcome.REPRODUCED
    # a ❌ needs A validated
    assert stats.beats(**worse, a_unvalidated="", b_unvalidated="x").outcome is Outcome.NOT_REPRODUCED
    blocked = stats.beats(**worse, a_unvalidated="A: best epoch the last in seed 0", b_unvalidated="")
    assert blocked.outcome is Outcome.INCONCLUSIVE and "A's setting was not validated" in blocked.reason
    # the rule text says so whenever the rule is in force, and only then; decide() passes the inputs through
    assert "validated" in stats.beats(**better, a_unvalidated="", b_unvalidated="").rule
    assert "validated" not in stats.beats(**better).rule
    assert stats.decide("beats", dict(better, b_unvalidated="x")).outcome is Outcome.INCONCLUSIVE


def test_an_interval_claim_whose_estimator_failed_its_check_is_inconclusive():
    above = dict(a_low=[2.0] * 5, a_high=[3.0] * 5, b_low=[0.0] * 5, b_high=[1.0] * 5, min_effect=0.5)
    assert stats.beats_bounded(**above, untrusted="").outcome is Outcome.REPRODUCED
    untrusted = stats.beats_bounded(**above, untrusted="reverse AIS put log Z 16.1 nats below the exact value")
    assert untrusted.outcome is Outcome.INCONCLUSIVE
    assert untrusted.reason == "the intervals are not trusted: reverse AIS put log Z 16.1 nats below the exact value"
    below = dict(a_low=[0.0] * 5, a_high=[1.0] * 5, b_low=[2.0] * 5, b_high=[3.0] * 5, min_effect=0.5)
    assert stats.beats_bounded(**below, untrusted="x").outcome is Outcome.INCONCLUSIVE  # ❌ as well as ✅
    assert "check" in stats.beats_bounded(**above, untrusted="").rule
    assert "check" not in stats.beats_bounded(**above).rule
    assert stats.decide("beats_bounded", dict(above, untrusted="x")).outcome is Outcome.INCONCLUSIVE
