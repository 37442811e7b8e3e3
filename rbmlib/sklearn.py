"""rbmlib as a scikit-learn estimator: ``RBMTransformer``, a faster ``sklearn.neural_network.BernoulliRBM`` with
rbmlib's samplers, momentum, weight decay and unit types, for ``Pipeline`` and ``GridSearchCV``::

    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from rbmlib.sklearn import RBMTransformer
    model = make_pipeline(RBMTransformer(n_components=100, random_state=0),
                          LogisticRegression()).fit(X, y)
"""
from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .rbm import RBM
from .samplers import CD, PCD
from .stack import layer_features
from .train import TrainConfig, Trainer, as_rows
from .units import Bernoulli, Gaussian, NReLU

SAMPLERS = {"cd": CD, "pcd": PCD}
VISIBLE_UNITS = {"bernoulli": Bernoulli, "gaussian": Gaussian}
HIDDEN_UNITS = {"bernoulli": Bernoulli, "nrelu": NReLU}


class RBMTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """A restricted Boltzmann machine trained by rbmlib, with scikit-learn's ``BernoulliRBM`` interface.

    ``fit`` trains an :class:`~rbmlib.rbm.RBM` with an :class:`~rbmlib.train.Trainer`; ``transform`` returns the hidden
    features E[h | v] (noise-free max(0, c + vW) for NReLU hiddens). The defaults are ``BernoulliRBM``'s: PCD-1,
    10 epochs of batches of 10, learning rate 0.1, weights drawn from N(0, 0.01²), no momentum or weight decay.
    The model computes in float32: float64 input is rounded to float32 and the output is float32.

    Parameters
    ----------
    n_components : int, default=256
        Number of hidden units.
    learning_rate : float, default=0.1
        Learning rate ε of the parameter updates.
    batch_size : int, default=10
        Examples per mini-batch.
    n_iter : int, default=10
        Number of epochs (passes over the training data).
    sampler : {"pcd", "cd"}, default="pcd"
        Negative phase: persistent contrastive divergence (:class:`~rbmlib.samplers.PCD`, one chain per example of a batch,
        as ``BernoulliRBM``) or contrastive divergence (:class:`~rbmlib.samplers.CD`).
    k : int, default=1
        Gibbs sweeps per update of the sampler.
    momentum : float, default=0.0
        Momentum μ of the updates (Hinton's guide uses 0.5 then 0.9).
    weight_decay : float, default=0.0
        L2 penalty λ on the weights (not the biases).
    visible : {"bernoulli", "gaussian"}, default="bernoulli"
        Visible units: Bernoulli for data in [0, 1] (others are refused: scale them, e.g. with ``MinMaxScaler``);
        unit-variance Gaussian for standardised real-valued data (use a learning rate near 1e-3).
    hidden : {"bernoulli", "nrelu"}, default="bernoulli"
        Hidden units: Bernoulli or noisy rectified linear (:class:`~rbmlib.units.NReLU`).
    weight_std : float, default=0.01
        Standard deviation of the initial weights.
    device : str, default="cpu"
        Torch device to train and transform on, e.g. ``"cuda"``.
    verbose : int, default=0
        Show a progress bar over the epochs if non-zero.
    random_state : int, RandomState instance or None, default=None
        Seeds the torch generator of the initial weights, batch order and Gibbs sampling.

    Attributes
    ----------
    rbm_ : rbmlib.rbm.RBM
        The trained model.
    history_ : list of dict
        One record per epoch (reconstruction error, learning rate, momentum, seconds): ``Trainer.history_``.
    components_ : numpy.ndarray
        The weights W transposed, shape (n_components, n_features), as in ``BernoulliRBM``.
    intercept_hidden_ : numpy.ndarray
        Hidden biases c, shape (n_components,).
    intercept_visible_ : numpy.ndarray
        Visible biases b, shape (n_features,).
    n_features_in_ : int
        Number of features seen in ``fit``.
    """

    def __init__(self, n_components=256, *, learning_rate=0.1, batch_size=10, n_iter=10, sampler="pcd", k=1,
                 momentum=0.0, weight_decay=0.0, visible="bernoulli", hidden="bernoulli", weight_std=0.01,
                 device="cpu", verbose=0, random_state=None):
        self.n_components = n_components
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.sampler = sampler
        self.k = k
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.visible = visible
        self.hidden = hidden
        self.weight_std = weight_std
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

    def fit(self, X, y=None):
        """Train the RBM on the rows of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (in [0, 1] for Bernoulli visible units).
        y : None
            Ignored.

        Returns
        -------
        RBMTransformer
            ``self``, fitted.
        """
        X = validate_data(self, X, dtype=(np.float64, np.float32))
        for name, value, choices in (("sampler", self.sampler, SAMPLERS), ("visible", self.visible, VISIBLE_UNITS),
                                     ("hidden", self.hidden, HIDDEN_UNITS)):
            if value not in choices:
                raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        generator = torch.Generator(self.device).manual_seed(int(seed))
        self.rbm_ = RBM(X.shape[1], self.n_components, VISIBLE_UNITS[self.visible](), HIDDEN_UNITS[self.hidden](),
                        weight_std=self.weight_std, generator=generator)
        config = TrainConfig(epochs=self.n_iter, batch_size=self.batch_size, learning_rate=self.learning_rate,
                             initial_momentum=self.momentum, final_momentum=self.momentum,
                             weight_decay=self.weight_decay)
        trainer = Trainer(self.rbm_, config, SAMPLERS[self.sampler](self.k), generator)
        self.history_ = trainer.fit(X, progress=bool(self.verbose)).history_
        return self

    def _rows(self, X) -> torch.Tensor:
        check_is_fitted(self)
        return as_rows(validate_data(self, X, dtype=(np.float64, np.float32), reset=False), self.rbm_, "X")

    @torch.no_grad()
    def transform(self, X):
        """The hidden features of ``X``: E[h | v] (for NReLU hiddens the noise-free max(0, c + vW)).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_components), float32
        """
        return layer_features(self.rbm_, self._rows(X)).cpu().numpy()

    @torch.no_grad()
    def score_samples(self, X):
        """The log-probability of each row of ``X`` up to the model's constant log Z: −F(v) = log p(v) + log Z.

        Unlike ``BernoulliRBM.score_samples`` (a one-bit stochastic pseudo-likelihood) this is exact and
        deterministic, and it compares examples under one model; to compare models, estimate log Z with
        :func:`rbmlib.estimators.ais` on ``rbm_``, or use :func:`rbmlib.estimators.pseudo_log_likelihood`.
        For NReLU hiddens F is the stepped-sigmoid approximation (:class:`~rbmlib.units.NReLU`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,), float32
        """
        return (-self.rbm_.free_energy(self._rows(X))).cpu().numpy()

    @property
    def components_(self) -> np.ndarray:
        return self.rbm_.weight.detach().t().cpu().numpy()

    @property
    def intercept_hidden_(self) -> np.ndarray:
        return self.rbm_.hidden_bias.detach().cpu().numpy()

    @property
    def intercept_visible_(self) -> np.ndarray:
        return self.rbm_.visible_bias.detach().cpu().numpy()

    @property
    def _n_features_out(self) -> int:
        """For ``get_feature_names_out`` (``rbmtransformer0``, …)."""
        return self.n_components

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]  # the model computes in float32, whatever X's dtype
        return tags
