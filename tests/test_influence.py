"""The influence formulas of skprune.influence against exact autograd references."""

import numpy as np
import pytest
import torch
from torch import nn

from skprune import influence
from skprune.influence import FunctionalModel


def _problem(activation):
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(5, 16), activation(), nn.Linear(16, 3))
    rng = np.random.default_rng(0)

    def draw(n):
        return rng.standard_normal((n, 5)).astype(np.float32), rng.integers(0, 3, n)

    X, y = draw(40)
    X_target, y_target = draw(30)
    X_hessian, y_hessian = draw(50)
    return module, (X, y), (X_target, y_target), (X_hessian, y_hessian)


@pytest.fixture()
def tiny_problem():
    # tanh, not ReLU: a finite-difference step that crosses a ReLU kink jumps, while
    # autograd takes ReLU's second derivative as zero, so the two disagree there by design.
    return _problem(nn.Tanh)


@pytest.fixture()
def relu_problem():
    return _problem(nn.ReLU)


def _exact_bracket(model, X, y, X_hessian, y_hessian, dot_with):
    """Double backprop: ⟨v_z, ∇_θ⟨G_B, G_z⟩⟩ per sample, v_z = dot_with(G_z)."""
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    X_hessian, y_hessian = torch.as_tensor(X_hessian), torch.as_tensor(y_hessian)
    values = []
    for i in range(len(y)):
        theta = model.theta.clone().requires_grad_(True)
        g_batch = torch.autograd.grad(
            model.losses(theta, X_hessian, y_hessian).mean(), theta, create_graph=True
        )[0]
        g_sample = torch.autograd.grad(
            model.losses(theta, X[i : i + 1], y[i : i + 1]).sum(), theta, create_graph=True
        )[0]
        bracket = torch.autograd.grad(g_batch @ g_sample, theta)[0]
        values.append(float(dot_with(g_sample.detach()) @ bracket))
    return np.array(values)


def _mean_gradient(model, X, y):
    theta = model.theta.clone().requires_grad_(True)
    loss = model.losses(theta, torch.as_tensor(X), torch.as_tensor(y)).mean()
    return torch.autograd.grad(loss, theta)[0]


def _relative_error(estimate, exact):
    return np.linalg.norm(estimate - exact) / np.linalg.norm(exact)


def _validation_terms(problem, **kwargs):
    """Influence terms on the target set of a problem, and the double-backprop bracket."""
    module, (X, y), (X_t, y_t), (X_h, y_h) = problem
    model = FunctionalModel(module)
    first, second = influence.checkpoint_terms(
        model, X, y, X_target=X_t, y_target=y_t, X_hessian=X_h, y_hessian=y_h, **kwargs
    )
    g_target = _mean_gradient(model, X_t, y_t)
    exact_second = _exact_bracket(model, X, y, X_h, y_h, lambda g_z: g_target)
    per_sample = model.per_sample_gradients(model.theta, torch.as_tensor(X), torch.as_tensor(y))
    return first, second, (per_sample @ g_target).numpy(), exact_second


def _self_terms(problem, **kwargs):
    module, (X, y), _, (X_h, y_h) = problem
    model = FunctionalModel(module)
    first, second = influence.self_checkpoint_terms(
        model, X, y, X_hessian=X_h, y_hessian=y_h, **kwargs
    )
    exact_second = _exact_bracket(model, X, y, X_h, y_h, lambda g_z: g_z)
    per_sample = model.per_sample_gradients(model.theta, torch.as_tensor(X), torch.as_tensor(y))
    return first, second, (per_sample**2).sum(1).numpy(), exact_second


# float32 throughout: the exact products agree with double backprop to rounding; the
# forward difference divides a rounding error by its step (measured ~2e-4 on tanh).
@pytest.mark.parametrize(("hvp", "tolerance"), [("exact", 1e-5), ("finite_difference", 1e-2)])
@pytest.mark.parametrize("mode", ["jvp", "per_sample"])
def test_bracket_matches_double_backprop_on_a_smooth_net(mode, hvp, tolerance, tiny_problem):
    first, second, exact_first, exact_second = _validation_terms(tiny_problem, mode=mode, hvp=hvp)
    assert _relative_error(second, exact_second) <= tolerance
    np.testing.assert_allclose(first, exact_first, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize(("hvp", "tolerance"), [("exact", 1e-5), ("finite_difference", 1e-2)])
def test_self_terms_match_double_backprop(hvp, tolerance, tiny_problem):
    first, second, exact_first, exact_second = _self_terms(tiny_problem, hvp=hvp)
    assert _relative_error(second, exact_second) <= tolerance
    np.testing.assert_allclose(first, exact_first, rtol=1e-4)


@pytest.mark.parametrize("mode", ["jvp", "per_sample"])
def test_exact_hvp_matches_double_backprop_on_a_relu_net(mode, relu_problem):
    # ReLU is the default nets' activation. The exact products follow autograd (ReLU''
    # = 0); the finite difference, reported beside them, also picks up the gradient's
    # jumps at the kinks its step crosses: on this net ~2e-4 on the target-set bracket
    # and ~0.8 on self-influence, whose steps (along each sample's own gradient) cross many.
    _, exact_hvp, _, reference = _validation_terms(relu_problem, mode=mode, hvp="exact")
    _, by_difference, _, _ = _validation_terms(relu_problem, mode=mode, hvp="finite_difference")
    _, exact_self, _, self_reference = _self_terms(relu_problem, hvp="exact")
    _, self_by_difference, _, _ = _self_terms(relu_problem, hvp="finite_difference")
    errors = {
        "exact": _relative_error(exact_hvp, reference),
        "finite_difference": _relative_error(by_difference, reference),
        "exact, self": _relative_error(exact_self, self_reference),
        "finite_difference, self": _relative_error(self_by_difference, self_reference),
    }
    assert errors["exact"] <= 1e-5 and errors["exact, self"] <= 1e-5, errors
    assert errors["finite_difference"] > 10 * errors["exact"], errors
    assert errors["finite_difference, self"] > 0.1, errors


def test_exact_hvp_is_exact_on_a_quadratic():
    A = torch.tensor([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
    vector = torch.tensor([0.3, -2.0, 5.0])
    hv = influence.exact_hvp(lambda t: A @ t, torch.ones(3), vector)
    torch.testing.assert_close(hv, A @ vector, rtol=1e-6, atol=1e-6)


def test_exact_hvp_of_a_model_gradient_matches_double_backprop(relu_problem):
    module, (X, y), _, _ = relu_problem
    model = FunctionalModel(module)
    vector = torch.randn(model.theta.numel())
    hv = influence.exact_hvp(
        lambda t: model.mean_gradient(t, X, y, batch_size=16), model.theta, vector
    )
    theta = model.theta.clone().requires_grad_(True)
    g = torch.autograd.grad(
        model.losses(theta, torch.as_tensor(X), torch.as_tensor(y)).mean(), theta, create_graph=True
    )[0]
    reference = torch.autograd.grad(g @ vector, theta)[0]
    torch.testing.assert_close(hv, reference, rtol=1e-4, atol=1e-6)


def test_curvature_terms_agree_between_modes(relu_problem):
    module, (X, y), _, _ = relu_problem
    model = FunctionalModel(module)
    v, w = torch.randn(2, model.theta.numel())
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    by_jvp = model.curvature_terms(model.theta, X, y, v, w, mode="jvp")
    by_vmap = model.curvature_terms(model.theta, X, y, v, w, mode="per_sample")
    assert by_jvp.shape == (40, 2)
    torch.testing.assert_close(by_jvp, by_vmap, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="mode must be"):
        model.curvature_terms(model.theta, X, y, v, w, mode="other")


@pytest.mark.parametrize("function", ["checkpoint_terms", "self_checkpoint_terms"])
def test_unknown_hvp_method_is_named(function, tiny_problem):
    module, (X, y), (X_t, y_t), (X_h, y_h) = tiny_problem
    kwargs = {"X_hessian": X_h, "y_hessian": y_h, "hvp": "fd"}
    if function == "checkpoint_terms":
        kwargs.update(X_target=X_t, y_target=y_t)
    with pytest.raises(ValueError, match=r"hvp must be one of \('exact', 'finite_difference'\)"):
        getattr(influence, function)(FunctionalModel(module), X, y, **kwargs)


def test_jvp_and_per_sample_directional_derivatives_agree(tiny_problem):
    module, (X, y), _, _ = tiny_problem
    model = FunctionalModel(module)
    directions = torch.randn(3, model.theta.numel())
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    by_jvp = model.directional_derivatives(model.theta, X, y, directions, mode="jvp")
    by_vmap = model.directional_derivatives(model.theta, X, y, directions, mode="per_sample")
    assert by_jvp.shape == (40, 3)
    torch.testing.assert_close(by_jvp, by_vmap, rtol=1e-4, atol=1e-5)


def test_per_sample_gradients_match_autograd_one_by_one(tiny_problem):
    module, (X, y), _, _ = tiny_problem
    model = FunctionalModel(module)
    batched = model.per_sample_gradients(model.theta, torch.as_tensor(X), torch.as_tensor(y))
    for i in (0, 17, 39):
        one = _mean_gradient(model, X[i : i + 1], y[i : i + 1])
        torch.testing.assert_close(batched[i], one, rtol=1e-5, atol=1e-6)


def test_finite_difference_hvp_is_exact_on_a_quadratic():
    A = torch.tensor([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
    vector = torch.tensor([0.3, -2.0, 5.0])
    hv = influence.finite_difference_hvp(lambda t: A @ t, torch.ones(3), vector)
    torch.testing.assert_close(hv, A @ vector, rtol=1e-3, atol=1e-3)
    assert torch.equal(
        influence.finite_difference_hvp(lambda t: A @ t, torch.ones(3), 0 * vector), torch.zeros(3)
    )


def test_last_layer_restriction_keeps_only_the_head(tiny_problem):
    module, (X, y), _, _ = tiny_problem
    full = FunctionalModel(module)
    head = FunctionalModel(module, layers="last")
    assert head.names == ["2.weight", "2.bias"]
    assert head.theta.numel() == 16 * 3 + 3
    # The head's gradient is the tail of the full gradient.
    torch.testing.assert_close(_mean_gradient(head, X, y), _mean_gradient(full, X, y)[-51:])


def test_probability_outputs_with_nll_give_the_cross_entropy_losses(tiny_problem):
    module, (X, y), _, _ = tiny_problem
    logits_model = FunctionalModel(module)
    probability_module = nn.Sequential(module, nn.Softmax(dim=1))
    probability_model = FunctionalModel(probability_module, criterion=nn.NLLLoss)
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    torch.testing.assert_close(
        probability_model.losses(probability_model.theta, X, y),
        logits_model.losses(logits_model.theta, X, y),
        rtol=1e-5,
        atol=1e-6,
    )


def test_unsupported_criterion_and_layers_are_named(tiny_problem):
    module = tiny_problem[0]
    with pytest.raises(ValueError, match="MSELoss"):
        FunctionalModel(module, criterion=nn.MSELoss())
    with pytest.raises(ValueError, match="layers must be 'all' or 'last'"):
        FunctionalModel(module, layers="first")


@pytest.mark.parametrize(
    ("criterion", "setting"),
    [
        (nn.CrossEntropyLoss(label_smoothing=0.3), "label_smoothing"),
        (nn.CrossEntropyLoss(weight=torch.ones(3)), "weight"),
        (nn.NLLLoss(ignore_index=0), "ignore_index"),
    ],
)
def test_criterion_settings_the_losses_would_ignore_are_refused(criterion, setting, tiny_problem):
    with pytest.raises(ValueError, match=rf"criterion's {setting} setting"):
        FunctionalModel(tiny_problem[0], criterion=criterion)


def test_a_bare_linear_module_is_its_own_last_layer():
    model = FunctionalModel(nn.Linear(3, 2), layers="last")
    assert model.theta.numel() == 3 * 2 + 2


def test_functional_model_leaves_the_module_untouched(tiny_problem):
    module, (X, y), (X_t, y_t), (X_h, y_h) = tiny_problem
    before = {k: v.clone() for k, v in module.state_dict().items()}
    model = FunctionalModel(module)
    influence.checkpoint_terms(
        model, X, y, X_target=X_t, y_target=y_t, X_hessian=X_h, y_hessian=y_h
    )
    for name, value in module.state_dict().items():
        assert torch.equal(value, before[name])


def test_accumulation_weights_by_step_and_learning_rate():
    first = np.array([[1.0, 2.0], [3.0, 4.0]])
    second = np.array([[1.0, 0.0], [0.0, 1.0]])
    first_order, second_order = influence.accumulate_influence(
        first, second, steps=[2, 6], learning_rates=[0.1, 0.2], n_train=4, total_steps=8
    )
    # T/m = 4; η/N = 0.025 and 0.05.
    np.testing.assert_allclose(
        first_order, [4 * (0.025 * 1 + 0.05 * 3), 4 * (0.025 * 2 + 0.05 * 4)]
    )
    # −t·η²/(N·m) = −2·0.01/8 and −6·0.04/8.
    np.testing.assert_allclose(second_order, [-0.0025, -0.03])


def test_momentum_rescales_and_adam_warns():
    np.testing.assert_allclose(
        influence.effective_learning_rates([0.1, 0.2], [0.5, 0.0]), [0.2, 0.2]
    )
    with pytest.warns(UserWarning, match="only the ranking"):
        rates = influence.effective_learning_rates([0.01], [np.nan])
    np.testing.assert_allclose(rates, [0.01])
