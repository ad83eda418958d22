"""Default nets, cloning a user's net, inference and seeding."""

import numpy as np
import pytest
import torch
from skorch import NeuralNetClassifier

from skprune.nets import (
    MLP,
    SmallCNN,
    applied_last_linear,
    infer,
    last_linear,
    make_default_net,
    prepare_net,
    resolve_device,
    seeded,
)


@pytest.mark.parametrize(
    ("shape", "module", "extra"),
    [
        ((10, 7), MLP, {"module__n_features": 7}),
        ((10, 8, 8), SmallCNN, {"module__in_channels": 1}),
        ((10, 3, 8, 8), SmallCNN, {"module__in_channels": 3}),
    ],
)
def test_default_net_follows_the_input_shape(shape, module, extra):
    net = make_default_net(np.zeros(shape, dtype=np.float32), 4, device="cpu")
    assert net.module is module and net.train_split is None
    assert net.criterion is torch.nn.CrossEntropyLoss
    for key, value in extra.items():
        assert getattr(net, key) == value


def test_default_net_rejects_other_shapes():
    with pytest.raises(ValueError, match=r"2-D \(tabular\) or 3-D/4-D"):
        make_default_net(np.zeros(5), 2)


def test_width_scales_the_hidden_layers_of_either_default_net():
    mlp = make_default_net(np.zeros((5, 7)), 3, hidden_units=(100, 30), width=0.5).initialize()
    assert [m.out_features for m in mlp.module_.modules() if isinstance(m, torch.nn.Linear)] == [
        50,
        15,
        3,
    ]
    cnn = make_default_net(np.zeros((5, 8, 8), dtype=np.float32), 3, width=0.5).initialize()
    convs = [m.out_channels for m in cnn.module_.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs == [8, 16] and last_linear(cnn.module_).in_features == 32
    assert cnn.predict_proba(np.zeros((2, 8, 8), dtype=np.float32)).shape == (2, 3)
    assert make_default_net(
        np.zeros((5, 7)), 3, hidden_units=(1,), width=0.1
    ).module__hidden_units == (1,)
    for width in (0, -1.0, "half", True):
        with pytest.raises(ValueError, match="width must be a positive number"):
            make_default_net(np.zeros((5, 7)), 3, width=width)


def test_prepare_net_scales_only_the_default_net(tiny_net):
    X = np.zeros((5, 4))
    assert prepare_net(None, X, 3, width=0.5).module__hidden_units == (128,)
    user = prepare_net(tiny_net(4, 3), X, 3, width=0.5)
    assert user.module__hidden_units == (32,)


def test_auto_device_is_cpu_without_cuda():
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error without CUDA")
def test_cuda_without_cuda_fails_before_any_training(tiny_net):
    with pytest.raises(ValueError, match="torch sees no CUDA device"):
        resolve_device("cuda:0")
    with pytest.raises(ValueError, match="torch sees no CUDA device"):
        prepare_net(tiny_net(4, 3), np.zeros((5, 4)), 3, device="cuda")


@pytest.mark.parametrize("shape", [(5, 1, 10), (5, 3, 8, 1)])
def test_default_cnn_names_images_too_small_for_it(shape):
    with pytest.raises(ValueError, match=r"at least 2×2 pixels.*reshape X"):
        make_default_net(np.zeros(shape), 3)


def test_prepare_net_clones_and_disables_the_split(tiny_net):
    user = tiny_net(4, 3, max_epochs=7)
    net = prepare_net(user, np.zeros((5, 4)), 3, max_epochs=2)
    assert net is not user and net.train_split is None and net.max_epochs == 2
    assert user.train_split is not None and user.max_epochs == 7


def test_prepare_net_rejects_non_skorch_estimators():
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(TypeError, match="skorch NeuralNet"):
        prepare_net(LogisticRegression(), np.zeros((5, 4)), 3)


@pytest.mark.parametrize("shape", [(4, 28, 28), (4, 8, 8), (4, 3, 32, 32), (4, 1, 2, 2)])
def test_small_cnn_takes_any_image_size(shape):
    net = SmallCNN(shape[1] if len(shape) == 4 else 1, 5)
    assert net(torch.zeros(shape)).shape == (4, 5)
    # On 28x28 input the two pooling stages already give 7x7: the adaptive pooling keeps it.
    if shape[-1] == 28:
        assert net.features[:-1](torch.zeros(shape).unsqueeze(1)).shape[-2:] == (7, 7)


def test_last_linear_is_the_head_and_needs_one():
    assert last_linear(SmallCNN(1, 5)).out_features == 5
    with pytest.raises(ValueError, match="no nn.Linear"):
        last_linear(torch.nn.Sequential(torch.nn.ReLU()))


def test_the_layer_applied_last_is_found_by_running_the_net(head_registered_first):
    X = np.zeros((5, 4), dtype=np.float32)
    net = NeuralNetClassifier(
        head_registered_first,
        module__n_features=4,
        module__n_hidden=8,
        criterion=torch.nn.CrossEntropyLoss,
        verbose=0,
    ).initialize()
    assert last_linear(net.module_) is net.module_.hidden  # registration order
    assert applied_last_linear(net, X) is net.module_.out
    assert infer(net, X, embedding=True).embedding.shape == (5, 8)


class _AuxiliaryHeadAfterTheClassifier(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Linear(4, 8)
        self.proj = torch.nn.Linear(8, 6)  # e.g. a projection head for another loss
        self.fc = torch.nn.Linear(8, 3)

    def forward(self, x):
        h = torch.relu(self.hidden(x))
        logits = self.fc(h)
        return logits, self.proj(h)


def test_the_output_layer_is_the_one_whose_result_forward_returns():
    X = np.zeros((5, 4), dtype=np.float32)
    net = NeuralNetClassifier(
        _AuxiliaryHeadAfterTheClassifier, criterion=torch.nn.CrossEntropyLoss, verbose=0
    ).initialize()
    assert applied_last_linear(net, X) is net.module_.fc  # not proj, applied after it
    assert infer(net, X, embedding=True).embedding.shape == (5, 8)


class _FunctionalHead(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(3, 4))

    def forward(self, x):
        return torch.nn.functional.linear(x, self.weight)


def test_a_net_without_an_applied_linear_module_is_named():
    X = np.zeros((5, 4), dtype=np.float32)
    net = NeuralNetClassifier(_FunctionalHead, criterion=torch.nn.CrossEntropyLoss, verbose=0)
    with pytest.raises(ValueError, match="no nn.Linear"):
        applied_last_linear(net.initialize(), X)


def test_infer_returns_logits_probabilities_and_the_head_input(small_data, tiny_net):
    X, y = small_data
    net = tiny_net(8, 4, max_epochs=1).set_params(train_split=None).fit(X, y)
    out = infer(net, X, embedding=True)
    assert out.logits.shape == (200, 4) and out.embedding.shape == (200, 32)
    np.testing.assert_allclose(out.proba.sum(axis=1), 1.0, rtol=1e-5)
    head = net.module_.head
    expected = torch.as_tensor(out.embedding) @ head.weight.detach().T + head.bias.detach()
    np.testing.assert_allclose(out.logits, expected.numpy(), rtol=1e-4, atol=1e-5)


class _SoftmaxMLP(torch.nn.Module):
    """skorch's classic convention: the module returns probabilities, loss is NLL."""

    def __init__(self):
        super().__init__()
        self.head = torch.nn.Linear(8, 4)

    def forward(self, X):
        return torch.softmax(self.head(X), dim=-1)


def test_infer_reads_probability_outputs_of_nll_nets(small_data):
    X, y = small_data
    net = NeuralNetClassifier(_SoftmaxMLP, max_epochs=1, train_split=None, verbose=0).fit(X, y)
    out = infer(net, X)
    np.testing.assert_allclose(out.proba, net.predict_proba(X), rtol=1e-4, atol=1e-6)


def test_seeded_is_reproducible_and_restores_the_global_rng():
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    with seeded(0):
        a = torch.rand(3)
    with seeded(0):
        b = torch.rand(3)
    assert torch.equal(a, b)
    assert torch.equal(torch.rand(1), expected_next)  # caller's stream untouched
