"""Pair verification ("same or different?"): pair scores, the best threshold on training pairs, accuracy, the
siamese head, and the train/test split of a folded pairs protocol (LFW's Views 1 and 2).

A pair (a, b) of feature vectors gets a similarity score s (higher = more alike): the cosine cos(f(a), f(b)), or
minus the Euclidean distance −‖f(a) − f(b)‖ (Nair & Hinton 2010, §5, Table 3). A pair is called "same" when s > t,
with t chosen to maximise accuracy on training pairs. The siamese head turns s into p(same) = sigmoid(κ s + β), so
that the feature extractor can be trained on the cross-entropy of same/different labels.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

SCORES = ("cosine", "euclidean")


def pair_scores(features_a: torch.Tensor, features_b: torch.Tensor, score: str = "cosine") -> torch.Tensor:
    """s_i = cos(a_i, b_i) (``"cosine"``) or −‖a_i − b_i‖ (``"euclidean"``), row by row; higher = more alike."""
    if score not in SCORES:
        raise ValueError(f"score must be one of {', '.join(SCORES)}, got {score!r}")
    if features_a.shape != features_b.shape or features_a.ndim != 2:
        raise ValueError(f"need two (N, D) feature tensors of one shape, got {tuple(features_a.shape)}, "
                         f"{tuple(features_b.shape)}")
    if score == "cosine":
        return F.cosine_similarity(features_a, features_b, dim=1)
    return -(features_a - features_b).norm(dim=1)


def best_threshold(scores: torch.Tensor, same: torch.Tensor) -> float:
    """The threshold t maximising the accuracy of "same ⇔ score > t": the midpoint between two consecutive sorted
    scores (1 below the smallest, or the largest itself, at the ends); the lowest such t when several tie."""
    if scores.ndim != 1 or scores.shape != same.shape or scores.numel() == 0:
        raise ValueError(f"scores and same must be equal-length 1-D tensors, got {tuple(scores.shape)}, "
                         f"{tuple(same.shape)}")
    s, order = scores.detach().double().cpu().sort()
    y = same.cpu()[order].double()
    zero = torch.zeros(1, dtype=y.dtype)
    # a threshold just below s[k] (k = 0..n) calls s[k:] "same": correct = (#different below) + (#same at/above)
    correct = torch.cat([zero, torch.cumsum(1 - y, 0)]) + y.sum() - torch.cat([zero, torch.cumsum(y, 0)])
    k = int(torch.argmax(correct))
    if k == 0:
        return s[0].item() - 1.0
    if k == s.numel():
        return s[-1].item()
    return 0.5 * (s[k - 1].item() + s[k].item())


def accuracy(scores: torch.Tensor, same: torch.Tensor, threshold: float) -> float:
    """Fraction of pairs with (score > threshold) == same."""
    return ((scores.detach().cpu() > threshold) == same.cpu()).double().mean().item()


def verification_accuracy(train_scores: torch.Tensor, train_same: torch.Tensor, test_scores: torch.Tensor,
                          test_same: torch.Tensor) -> float:
    """Accuracy on the test pairs with the threshold chosen on the training pairs (never on the test pairs)."""
    return accuracy(test_scores, test_same, best_threshold(train_scores, train_same))


class SiameseHead(nn.Module):
    """logit p(same) = κ s + β on a pair score s; κ and β are learned.

    ``init(scores, same)`` starts from the decision rule of the untrained features: κ = 1/sd(s), β = −κ t, with t the
    best threshold on the training pairs, so the logit is the score's distance from t in standard deviations."""

    def __init__(self, score: str = "cosine"):
        super().__init__()
        if score not in SCORES:
            raise ValueError(f"score must be one of {', '.join(SCORES)}, got {score!r}")
        self.score = score
        self.scale = nn.Parameter(torch.tensor(1.0))
        self.offset = nn.Parameter(torch.tensor(0.0))

    @torch.no_grad()
    def init(self, scores: torch.Tensor, same: torch.Tensor) -> "SiameseHead":
        spread = scores.double().std().item()
        kappa = 1.0 / spread if spread > 0 else 1.0
        self.scale.fill_(kappa)
        self.offset.fill_(-kappa * best_threshold(scores, same))
        return self

    def forward(self, features_a: torch.Tensor, features_b: torch.Tensor) -> torch.Tensor:
        """The logit κ·s(a, b) + β of p(same) for each pair of feature rows."""
        return self.scale * pair_scores(features_a, features_b, self.score) + self.offset

    def extra_repr(self) -> str:
        return f"score={self.score!r}"


Pairs = tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # (index_a, index_b, same)


@dataclass
class Split:
    """One train/test split of a folded pairs protocol: ``faces`` indexes the training faces (for unsupervised
    pre-training and standardisation), ``train`` and ``test`` are (index_a, index_b, same) into the images."""

    faces: torch.Tensor
    train: Pairs
    test: Pairs


def split(data, test_fold: int) -> Split:
    """Test on ``test_fold``; train on the pairs of every other fold and on ``data.training_faces(test_fold)`` (the
    faces of those pairs whose person is not in the test fold). ``data`` is an ``rbmlib.data.LFWVerification``: on
    View 1, ``split(data, 1)`` is DevTrain vs DevTest; on View 2, fold f against the other nine."""
    others = [fold for fold in range(data.n_folds) if fold != test_fold]
    parts = [data.pairs(fold) for fold in others]
    train = tuple(torch.cat([p[i] for p in parts]) for i in range(3))
    return Split(data.training_faces(test_fold), train, data.pairs(test_fold))
