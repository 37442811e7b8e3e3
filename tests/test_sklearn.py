"""rbmlib.sklearn.RBMTransformer: scikit-learn's own estimator checks, BernoulliRBM's interface, Pipeline and
GridSearchCV, and the free energy behind score_samples."""
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from rbmlib.rbm import RBM
from rbmlib.sklearn import RBMTransformer

# The checks that train on data outside [0, 1] (Gaussian blobs, values near 100, ...): Bernoulli visible units
# refuse such data by design (issue 22: a forgotten /255 must not train silently), so these cannot apply to the
# default estimator; the Gaussian-visible estimator, which takes any real data, passes every one of them.
OUTSIDE_UNIT_INTERVAL = [
    "check_estimators_overwrite_params", "check_dont_overwrite_parameters", "check_estimators_fit_returns_self",
    "check_readonly_memmap_input", "check_n_features_in_after_fitting", "check_positive_only_tag_during_fit",
    "check_estimators_dtypes", "check_pipeline_consistency", "check_estimators_pickle",
    "check_f_contiguous_array_estimator", "check_transformer_data_not_an_array", "check_transformer_general",
    "check_transformer_preserve_dtypes", "check_methods_sample_order_invariance", "check_methods_subset_invariance",
    "check_fit2d_1sample", "check_fit2d_1feature", "check_dict_unchanged", "check_fit_idempotent",
    "check_fit_check_is_fitted", "check_n_features_in", "check_fit2d_predict1d",
]


def expected_failed_checks(estimator):
    if estimator.visible != "bernoulli":
        return {}
    return {name: "trains on data outside [0, 1], which Bernoulli visible units refuse" for name in
            OUTSIDE_UNIT_INTERVAL}


@parametrize_with_checks([RBMTransformer(8, visible="gaussian", learning_rate=1e-3, n_iter=2, random_state=0),
                          RBMTransformer(8, n_iter=2, random_state=0)],
                         expected_failed_checks=expected_failed_checks)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


# data: 120 binary 4×4 images of two classes (a bar on the left or on the right), with 10% of the pixels flipped
def bars(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = np.zeros((n, 4, 4))
    x[y == 0, :, 0] = 1
    x[y == 1, :, 3] = 1
    x = np.abs(x - (rng.random(x.shape) < 0.1))
    return x.reshape(n, 16), y


def test_bernoulli_rbms_hyper_parameters_and_fitted_attributes_are_there():
    X, _ = bars()
    assert set(BernoulliRBM().get_params()) <= set(RBMTransformer().get_params())
    ours = RBMTransformer(5, n_iter=2, random_state=0).fit(X)
    theirs = BernoulliRBM(n_components=5, n_iter=2, random_state=0).fit(X)
    for name in ("components_", "intercept_hidden_", "intercept_visible_", "n_features_in_"):
        assert np.shape(getattr(ours, name)) == np.shape(getattr(theirs, name)), name
    assert list(ours.get_feature_names_out()) == [f"rbmtransformer{i}" for i in range(5)]
    assert len(ours.history_) == 2


def test_transform_is_the_hidden_mean_and_score_samples_the_negative_free_energy():
    X, _ = bars()
    model = RBMTransformer(6, n_iter=3, random_state=0).fit(X)
    x = torch.as_tensor(X, dtype=torch.float32)
    with torch.no_grad():
        np.testing.assert_allclose(model.transform(X), model.rbm_.hidden_mean(x).numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(model.score_samples(X), -model.rbm_.free_energy(x).numpy(), rtol=1e-5)
    assert model.transform(X).dtype == np.float32


def test_the_free_energy_gives_the_log_probability_up_to_log_z():
    """score_samples over all 2^4 binary vectors, less their logsumexp (log Z), is the exact log-probability."""
    from rbmlib.estimators import _binary_states, exact_log_likelihood

    X = np.array([[1, 1, 0, 0], [0, 0, 1, 1]] * 20, dtype=float)
    model = RBMTransformer(3, n_iter=20, learning_rate=0.5, random_state=0).fit(X)
    states = _binary_states(0, 16, 4, model.rbm_.weight)
    log_z = np.logaddexp.reduce(model.score_samples(states.numpy()).astype(float))
    exact = exact_log_likelihood(model.rbm_, states).numpy()
    np.testing.assert_allclose(model.score_samples(states.numpy()) - log_z, exact, atol=1e-4)


def test_random_state_makes_fit_reproducible_and_clone_keeps_the_parameters():
    X, _ = bars()
    model = RBMTransformer(4, n_iter=2, sampler="cd", k=2, momentum=0.5, weight_decay=1e-4, random_state=3)
    first, second = clone(model).fit(X).components_, clone(model).fit(X).components_
    np.testing.assert_array_equal(first, second)
    assert clone(model).get_params() == model.get_params()
    assert not np.array_equal(first, clone(model).set_params(random_state=4).fit(X).components_)


def test_in_a_pipeline_with_grid_search():
    X, y = bars()
    pipeline = Pipeline([("rbm", RBMTransformer(random_state=0, n_iter=20)), ("logistic", LogisticRegression())])
    search = GridSearchCV(pipeline, {"rbm__n_components": [2, 8], "rbm__sampler": ["cd", "pcd"]}, cv=2)
    search.fit(X, y)
    assert search.best_score_ > 0.9
    assert search.best_estimator_.named_steps["rbm"].rbm_.n_hidden == search.best_params_["rbm__n_components"]


def test_data_outside_the_visible_units_support_are_refused_with_the_scaler_named():
    X, _ = bars()
    with pytest.raises(ValueError, match=r"range over \[0, 255\].*MinMaxScaler"):
        RBMTransformer(2, n_iter=1).fit(X * 255)
    model = RBMTransformer(2, n_iter=1).fit(X)
    with pytest.raises(ValueError, match=r"X range over \[-1, 1\]"):
        model.transform(X * 2 - 1)
    scaled = Pipeline([("scale", MinMaxScaler()), ("rbm", RBMTransformer(2, n_iter=1))]).fit(X * 255)
    assert scaled.transform(X * 255).shape == (120, 2)


def test_unknown_choices_are_refused():
    X, _ = bars()
    for name in ("sampler", "visible", "hidden"):
        with pytest.raises(ValueError, match=f"{name} must be one of"):
            RBMTransformer(**{name: "nope"}).fit(X)


def test_the_rbm_is_an_rbmlib_model_with_the_chosen_units():
    X, _ = bars()
    model = RBMTransformer(3, visible="gaussian", hidden="nrelu", learning_rate=1e-3, n_iter=1).fit(X - 0.5)
    assert isinstance(model.rbm_, RBM) and repr(model.rbm_.hidden).startswith("NReLU")
    assert (model.transform(X - 0.5) >= 0).all()  # noise-free rectified features


@pytest.mark.parametrize("params", [dict(sampler="cd", k=3), dict(sampler="pcd", k=2),
                                    dict(sampler="cd", momentum=0.5, weight_decay=0.05),
                                    dict(sampler="pcd", weight_decay=0.2)], ids=["cd-k3", "pcd-k2", "cd-decay",
                                                                                  "pcd-decay"])
def test_every_hyper_parameter_reaches_the_trainer(params):
    """fit is rbmlib's Trainer with the same settings, bit for bit: k Gibbs steps, momentum and weight decay
    included. The generator is seeded as documented: np.random.RandomState(random_state).randint(2^31 − 1)."""
    from rbmlib.samplers import CD, PCD
    from rbmlib.train import TrainConfig, Trainer

    X = np.random.default_rng(0).random((40, 6))
    model = RBMTransformer(4, n_iter=3, batch_size=10, learning_rate=0.2, random_state=5, **params).fit(X)
    seed = np.random.RandomState(5).randint(np.iinfo(np.int32).max)
    generator = torch.Generator().manual_seed(int(seed))
    rbm = RBM(6, 4, weight_std=0.01, generator=generator)
    momentum = params.get("momentum", 0.0)
    config = TrainConfig(epochs=3, batch_size=10, learning_rate=0.2, initial_momentum=momentum,
                         final_momentum=momentum, weight_decay=params.get("weight_decay", 0.0))
    sampler = (CD if params["sampler"] == "cd" else PCD)(params.get("k", 1))
    Trainer(rbm, config, sampler, generator).fit(X, progress=False)
    assert np.array_equal(model.components_, rbm.weight.detach().t().numpy())
    assert np.array_equal(model.intercept_hidden_, rbm.hidden_bias.detach().numpy())
    assert np.array_equal(model.intercept_visible_, rbm.visible_bias.detach().numpy())
