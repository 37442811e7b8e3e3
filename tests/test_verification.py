"""rbmlib.verification: pair scores, thresholds, accuracy, the siamese head and fold splits, against exact answers on
tiny inputs; and the intensity equivariance of a bias-free rectifier layer (Nair & Hinton 2010, §5)."""
import math

import pytest
import torch
import torch.nn.functional as F

from rbmlib import verification as V
from rbmlib.rbm import RBM
from rbmlib.stack import to_sequential
from rbmlib.supervised import fit
from rbmlib.units import Bernoulli, Gaussian, NReLU


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_pair_scores_exact():
    a = torch.tensor([[3.0, 4.0], [1.0, 0.0]])
    b = torch.tensor([[6.0, 8.0], [0.0, 2.0]])
    torch.testing.assert_close(V.pair_scores(a, b), torch.tensor([1.0, 0.0]))
    torch.testing.assert_close(V.pair_scores(a, b, "euclidean"), torch.tensor([-5.0, -math.sqrt(5.0)]))
    with pytest.raises(ValueError, match="cosine, euclidean"):
        V.pair_scores(a, b, "manhattan")
    with pytest.raises(ValueError, match="one shape"):
        V.pair_scores(a, b[:1])


def test_best_threshold_is_the_midpoint_that_maximises_accuracy():
    scores = torch.tensor([0.1, 0.9, 0.4, 0.6, 0.3])
    same = torch.tensor([False, True, False, True, True])
    # sorted: 0.1 F, 0.3 T, 0.4 F, 0.6 T, 0.9 T: cutting below 0.3 or below 0.6 both get 4/5: the lower one wins
    t = V.best_threshold(scores, same)
    assert t == pytest.approx(0.2)
    assert V.accuracy(scores, same, t) == pytest.approx(0.8)
    separable = torch.tensor([0.2, 0.8, 0.1, 0.7])
    labels = torch.tensor([False, True, False, True])
    t = V.best_threshold(separable, labels)
    assert t == pytest.approx(0.45) and V.accuracy(separable, labels, t) == 1.0


def test_best_threshold_extremes_and_bad_input():
    scores = torch.tensor([0.3, 0.5])
    assert V.best_threshold(scores, torch.tensor([True, True])) == pytest.approx(-0.7)  # everything "same"
    assert V.best_threshold(scores, torch.tensor([False, False])) == pytest.approx(0.5)  # nothing "same"
    with pytest.raises(ValueError, match="equal-length"):
        V.best_threshold(torch.tensor([0.1, 0.2]), torch.tensor([True]))


def test_verification_accuracy_thresholds_on_training_pairs_only():
    train_scores, train_same = torch.tensor([0.995, 0.0]), torch.tensor([True, False])  # threshold 0.4975
    test_scores = torch.tensor([0.707, 0.0995])
    assert V.verification_accuracy(train_scores, train_same, test_scores, torch.tensor([True, False])) == 1.0
    assert V.verification_accuracy(train_scores, train_same, test_scores, torch.tensor([False, True])) == 0.0
    # a threshold chosen on the test pairs would get 1.0 here; the training pairs' threshold (0.4975) gets 0.5
    assert V.verification_accuracy(train_scores, train_same, torch.tensor([0.3, 0.2]),
                                   torch.tensor([True, False])) == 0.5


def test_siamese_head_starts_from_the_threshold_rule():
    scores, same = torch.tensor([0.1, 0.3, 0.6, 0.8]), torch.tensor([False, False, True, True])
    head = V.SiameseHead("cosine").init(scores, same)
    sd = scores.double().std().item()
    assert head.scale.item() == pytest.approx(1 / sd) and head.offset.item() == pytest.approx(-0.45 / sd)
    a = torch.tensor([[1.0, 0.0]])
    b = torch.tensor([[1.0, 1.0]])  # cos = 1/√2
    torch.testing.assert_close(head(a, b), (torch.tensor([2 ** -0.5]) - 0.45) / sd)
    assert V.SiameseHead("euclidean")(a, b).item() == pytest.approx(-1.0)  # κ = 1, β = 0: minus the distance
    with pytest.raises(ValueError, match="score must be"):
        V.SiameseHead("dot")


class FakeData:
    """Three folds; fold f has pairs (10f, 10f + 1, True) and (10f + 2, 10f + 3, False); training faces of f are
    the indices of the other folds."""

    n_folds = 3

    def pairs(self, fold):
        return torch.tensor([10 * fold, 10 * fold + 2]), torch.tensor([10 * fold + 1, 10 * fold + 3]), \
            torch.tensor([True, False])

    def training_faces(self, fold):
        return torch.tensor([10 * g + i for g in range(3) if g != fold for i in range(4)])


def test_split_trains_on_every_other_fold():
    s = V.split(FakeData(), 1)
    assert s.train[0].tolist() == [0, 2, 20, 22] and s.train[1].tolist() == [1, 3, 21, 23]
    assert s.train[2].tolist() == [True, False, True, False]
    assert s.test[0].tolist() == [10, 12] and s.faces.tolist() == [0, 1, 2, 3, 20, 21, 22, 23]


@pytest.mark.parametrize("kind, equivariant", [(NReLU, True), (Bernoulli, False)])
def test_bias_free_rectifier_features_are_intensity_equivariant(kind, equivariant):
    rbm = RBM(12, 7, Gaussian(), kind(), weight_std=0.5, hidden_bias=False, generator=torch.Generator().manual_seed(0))
    f = to_sequential([rbm])
    a, b = torch.randn(2, 5, 12, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        for alpha in (0.25, 3.0):
            relative = ((f(alpha * a) - alpha * f(a)).norm(dim=1) / (alpha * f(a)).norm(dim=1)).max().item()
            change = (V.pair_scores(f(alpha * a), f(b)) - V.pair_scores(f(a), f(b))).abs().max().item()
            if equivariant:
                assert relative < 1e-6 and change < 1e-6
            else:  # sigmoid(0) = ½: f(αa) − αf(a) is about |1 − α|/2 per unit
                assert relative > 0.05


def test_siamese_training_through_fit_learns_toy_pairs():
    g = torch.Generator().manual_seed(3)
    identities = torch.randn(4, 10, generator=g)
    images = identities.repeat_interleave(5, 0) + 0.3 * torch.randn(20, 10, generator=g)
    person = torch.arange(20) // 5
    index_a, index_b = torch.combinations(torch.arange(20), 2).t()
    same = person[index_a] == person[index_b]
    rbm = RBM(10, 16, Gaussian(), NReLU(), weight_std=0.01, hidden_bias=False,
              generator=torch.Generator().manual_seed(4))
    net = to_sequential([rbm])
    net[0].bias.requires_grad_(False)

    def scores():
        with torch.no_grad():
            return V.pair_scores(net(images[index_a]), net(images[index_b]))

    before = V.verification_accuracy(scores(), same, scores(), same)
    head = V.SiameseHead().init(scores(), same)
    optimizer = torch.optim.Adam([net[0].weight, *head.parameters()], lr=1e-2)
    fit(lambda batch: F.binary_cross_entropy_with_logits(head(net(images[index_a[batch]]), net(images[index_b[batch]])),
                                                         same[batch].float()),
        optimizer, len(same), epochs=20, batch_size=32, generator=torch.Generator().manual_seed(5))
    assert net[0].bias.abs().sum() == 0  # the frozen bias stays zero: still equivariant
    assert V.verification_accuracy(scores(), same, scores(), same) > max(before, 0.9)
