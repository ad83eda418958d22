"""Training-sample influence from parameter checkpoints: TracIn and Diff-In terms.

The functions here are the formulas behind :class:`skprune.DiffInScorer`, written
with :mod:`torch.func` so they can be tested without training:

- :class:`FunctionalModel` turns a module, one checkpoint of its parameters and
  its loss into pure functions of a flat parameter vector θ (eval mode, so
  BatchNorm uses running statistics and dropout is off).
- Per-sample quantities never materialize more than one chunk of per-sample
  gradients: :meth:`FunctionalModel.directional_derivatives` returns
  ``⟨v, ∇ℓ(z; θ)⟩`` for a few directions ``v``, from per-sample gradients
  (``vmap`` over samples) or from one forward-mode pass over the batch (``jvp``).
- Hessian-vector products are exact, forward-over-reverse (``jvp`` of
  ``grad``, :func:`exact_hvp`), or forward finite differences of first-order
  gradients, ``H·v ≈ (∇L(θ + ε·v/‖v‖) − ∇L(θ)) / (ε/‖v‖)``
  (:func:`finite_difference_hvp`, the reference code's), both in float32.
  ``hvp=`` picks one in the functions below. A finite-difference step that
  crosses a ReLU kink picks up the jump of the gradient there, which the
  local Hessian does not have (see the Diff-In method page).

Diff-In's second-order bracket ``H_B·G_z + H_z·G_B`` equals the gradient of
TracIn's integrand ``∇_θ⟨G_B, G_z⟩``; dotted with a target gradient ``G_V`` it
costs two per-sample directional derivatives per checkpoint thanks to the
symmetry of the Hessian (see :func:`checkpoint_terms`).
"""

from __future__ import annotations

import contextlib
import threading
import warnings

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad, jvp, vmap
from torch.nn import functional as F

from .nets import last_linear

# torch's forward-mode AD keeps its dual levels (and warnings its filters) in
# process-wide state, so concurrent jvp calls from threads (joblib's threading
# backend) break each other; they take turns. Process backends are unaffected.
# Reentrant: the exact second-order terms nest forward-mode passes.
_FORWARD_AD_LOCK = threading.RLock()


@contextlib.contextmanager
def _forward_mode():
    """Hold the forward-mode lock; silence torch's one-time jit deprecation warning."""
    with _FORWARD_AD_LOCK, warnings.catch_warnings():
        # torch registers its forward-mode decompositions with torch.jit.script on
        # the first jvp and warns that jit is deprecated; nothing for users to act on.
        warnings.filterwarnings(
            "ignore", message=".*torch.jit.script.*", category=DeprecationWarning
        )
        yield


__all__ = [
    "FunctionalModel",
    "exact_hvp",
    "finite_difference_hvp",
    "checkpoint_directions",
    "directional_terms",
    "checkpoint_terms",
    "self_checkpoint_terms",
    "accumulate_influence",
    "effective_learning_rates",
    "INFLUENCE_VARIANTS",
    "HVP_METHODS",
]

INFLUENCE_VARIANTS = ("full", "second_order", "tracin")
HVP_METHODS = ("exact", "finite_difference")


def _loss_kind(criterion):
    if isinstance(criterion, nn.CrossEntropyLoss | nn.NLLLoss):
        # The per-sample losses below are the plain ones; a weighted or smoothed
        # criterion would make them another loss than the one the net trained on.
        settings = {
            "weight": criterion.weight is not None,
            "label_smoothing": getattr(criterion, "label_smoothing", 0.0) != 0.0,
            "ignore_index": criterion.ignore_index != -100,
        }
        unsupported = [name for name, changed in settings.items() if changed]
        if unsupported:
            raise ValueError(
                f"influence uses the plain per-sample {type(criterion).__name__}; the "
                f"criterion's {', '.join(unsupported)} setting(s) are not supported"
            )
    if isinstance(criterion, nn.CrossEntropyLoss) or criterion is nn.CrossEntropyLoss:
        return "cross_entropy"
    if isinstance(criterion, nn.NLLLoss) or criterion is nn.NLLLoss:
        return "nll"
    name = getattr(criterion, "__name__", type(criterion).__name__)
    raise ValueError(
        f"influence needs per-sample losses; got criterion {name}. Use CrossEntropyLoss "
        "(module returns logits) or NLLLoss (module returns probabilities)"
    )


def _read_rows(X, start, stop):
    """Rows ``start:stop`` of an array or tensor; for a torch ``Dataset``, its items stacked.

    Items of a dataset are ``x`` or ``(x, target, ...)``; only ``x`` is kept,
    so a dataset is read one chunk at a time and never as a whole.

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> from skprune.influence import _read_rows
    >>> data = TensorDataset(torch.arange(6.0).reshape(3, 2), torch.arange(3))
    >>> _read_rows(data, 1, 5).tolist()
    [[2.0, 3.0], [4.0, 5.0]]
    """
    if not isinstance(X, torch.utils.data.Dataset):
        return X[start:stop]
    rows = []
    for i in range(start, min(stop, len(X))):
        item = X[i]
        if isinstance(item, tuple | list):
            item = item[0]
        rows.append(torch.as_tensor(item if isinstance(item, torch.Tensor) else np.asarray(item)))
    return torch.stack(rows)


class FunctionalModel:
    """A module at one checkpoint, as pure functions of a flat parameter vector.

    Parameters
    ----------
    module : torch.nn.Module
        The network; it is put in eval mode and never modified.
    state_dict : dict or None, default=None
        Parameters and buffers of the checkpoint; None uses the module's own.
    criterion : torch.nn.Module or class, default=torch.nn.CrossEntropyLoss
        ``CrossEntropyLoss`` (the module returns logits) or ``NLLLoss`` (the
        module returns probabilities, skorch's classifier convention).
    layers : {"all", "last"}, default="all"
        Parameters that influence is taken over; ``"last"`` keeps only those of
        the output layer (the rest stay fixed), for large models.
    device : str, default="cpu"
    head : str or None, default=None
        Qualified name in ``module`` of the output :class:`torch.nn.Linear`
        for ``layers="last"`` (``""`` for a bare ``nn.Linear``); None takes the
        last one registered (:func:`~skprune.nets.last_linear`). Callers that
        can run the net pass the output layer found by running it
        (:func:`~skprune.nets.applied_last_linear`), as
        :class:`~skprune.DiffInScorer` does.

    Attributes
    ----------
    theta : torch.Tensor of shape (n_params,)
        The checkpoint's parameters, flattened.
    names : list of str
        Names of the parameters in ``theta``, in order.

    Examples
    --------
    >>> import torch
    >>> from skprune.influence import FunctionalModel
    >>> from skprune.nets import MLP
    >>> torch.manual_seed(0) and None
    >>> model = FunctionalModel(MLP(3, 2, hidden_units=(4,)))
    >>> model.theta.shape
    torch.Size([26])
    >>> X, y = torch.randn(5, 3), torch.tensor([0, 1, 0, 1, 1])
    >>> model.per_sample_gradients(model.theta, X, y).shape
    torch.Size([5, 26])
    """

    def __init__(
        self,
        module,
        state_dict=None,
        criterion=nn.CrossEntropyLoss,
        *,
        layers="all",
        device="cpu",
        head=None,
    ):
        self.module = module.to(device).eval()
        self.device = device
        self.loss_kind = _loss_kind(criterion)
        state = dict(module.state_dict() if state_dict is None else state_dict)
        parameter_names = [name for name, _ in module.named_parameters()]
        if layers == "all":
            self.names = parameter_names
        elif layers == "last":
            if head is None:
                last = last_linear(module)
                prefix = next(name for name, sub in module.named_modules() if sub is last)
            elif isinstance(module.get_submodule(head), nn.Linear):
                prefix = head
            else:
                raise ValueError(f"head={head!r} is not an nn.Linear of {type(module).__name__}")
            # A bare nn.Linear is its own head: its prefix is "" and all parameters are its.
            self.names = [n for n in parameter_names if not prefix or n.startswith(prefix + ".")]
        else:
            raise ValueError(f"layers must be 'all' or 'last', got {layers!r}")
        self.fixed = {
            name: value.detach().to(device, torch.float32 if value.is_floating_point() else None)
            for name, value in state.items()
            if name not in self.names
        }
        tensors = [state[name].detach().to(device, torch.float32) for name in self.names]
        self.shapes = [t.shape for t in tensors]
        self.sizes = [t.numel() for t in tensors]
        self.theta = torch.cat([t.reshape(-1) for t in tensors])

    # --- pure functions of θ -----------------------------------------------------

    def _unflatten(self, flat):
        pieces = torch.split(flat, self.sizes)
        return {
            name: piece.view(shape)
            for name, piece, shape in zip(self.names, pieces, self.shapes, strict=True)
        }

    def losses(self, flat, X, y):
        """Per-sample losses ``ℓ(z; θ)`` of a batch, shape (n,)."""
        outputs = functional_call(self.module, {**self.fixed, **self._unflatten(flat)}, (X,))
        outputs = outputs[0] if isinstance(outputs, tuple) else outputs
        if self.loss_kind == "cross_entropy":
            return F.cross_entropy(outputs, y, reduction="none")
        return F.nll_loss(torch.log(outputs.clamp_min(1e-12)), y, reduction="none")

    def _batches(self, X, y, batch_size):
        for start in range(0, len(X), batch_size):
            yield (
                torch.as_tensor(_read_rows(X, start, start + batch_size), device=self.device),
                torch.as_tensor(y[start : start + batch_size], device=self.device),
            )

    def mean_gradient(self, flat, X, y, batch_size=1024):
        """Gradient of the mean loss over ``(X, y)``, accumulated batch by batch."""
        total = torch.zeros_like(flat)
        for X_batch, y_batch in self._batches(X, y, batch_size):
            # Out of place, so that exact_hvp can differentiate through the sum (jvp).
            total = total + grad(lambda f, a=X_batch, b=y_batch: self.losses(f, a, b).sum())(flat)
        return total / len(X)

    def per_sample_gradients(self, flat, X, y):
        """Per-sample gradients ``∇ℓ(z; θ)`` of one chunk, shape (n, n_params)."""

        def single(f, x, t):
            return self.losses(f, x.unsqueeze(0), t.unsqueeze(0)).sum()

        return vmap(grad(single), in_dims=(None, 0, 0))(flat, X, y)

    def directional_derivatives(self, flat, X, y, directions, mode="jvp"):
        """``⟨v, ∇ℓ(z; θ)⟩`` for every sample of a chunk and every direction ``v``.

        Parameters
        ----------
        flat : torch.Tensor of shape (n_params,)
        X, y : torch.Tensor
            One chunk of samples.
        directions : torch.Tensor of shape (k, n_params)
        mode : {"jvp", "per_sample"}, default="jvp"
            ``"jvp"`` differentiates the per-sample losses forward along each
            direction (one batched forward-mode pass per direction, no
            per-sample gradient in memory); ``"per_sample"`` computes the
            chunk's per-sample gradients with ``vmap`` and multiplies.

        Returns
        -------
        torch.Tensor of shape (n, k)
        """
        if mode == "per_sample":
            return self.per_sample_gradients(flat, X, y) @ directions.T
        if mode != "jvp":
            raise ValueError(f"mode must be 'jvp' or 'per_sample', got {mode!r}")
        with _forward_mode():
            columns = [jvp(lambda f: self.losses(f, X, y), (flat,), (v,))[1] for v in directions]
        return torch.stack(columns, dim=1)

    def curvature_terms(self, flat, X, y, v, w, u=None, mode="jvp"):
        """``⟨v, G_z⟩`` and ``⟨v, H_z·w⟩ + ⟨u, G_z⟩`` of every sample of a chunk, exactly.

        ``H_z`` is the Hessian of the sample's loss ``ℓ(z; θ)``. Both columns
        come from one pass, without finite differences: with
        ``F(θ, v) = ⟨v, ∇ℓ(z; θ)⟩`` (a forward-mode derivative), the second
        column is the derivative of ``F`` along ``(w, u)``. ``mode="jvp"``
        takes it forward-over-forward, batched over the chunk;
        ``"per_sample"`` takes the forward-mode derivative of every
        per-sample gradient along ``w`` (``jvp`` of ``grad``, ``vmap`` over
        samples). Diff-In's bracket ``⟨G_V, H_B·G_z + H_z·G_B⟩`` is the second
        column for ``v = G_V``, ``w = G_B`` and ``u = H_B·G_V``.

        Parameters
        ----------
        flat : torch.Tensor of shape (n_params,)
        X, y : torch.Tensor
            One chunk of samples.
        v, w : torch.Tensor of shape (n_params,)
        u : torch.Tensor of shape (n_params,) or None, default=None
            None adds nothing to the second column.
        mode : {"jvp", "per_sample"}, default="jvp"

        Returns
        -------
        torch.Tensor of shape (n, 2)
            Columns ``⟨v, G_z⟩`` and ``⟨v, H_z·w⟩ + ⟨u, G_z⟩``.

        Examples
        --------
        >>> import torch
        >>> from skprune.influence import FunctionalModel
        >>> model = FunctionalModel(torch.nn.Linear(2, 2, bias=False))
        >>> X, y = torch.tensor([[1.0, 0.0]]), torch.tensor([0])
        >>> v = w = torch.tensor([1.0, 0.0, 0.0, 0.0])
        >>> # At W = 0 the softmax is (0.5, 0.5): gradient −0.5, curvature 0.5·0.5.
        >>> model.curvature_terms(torch.zeros(4), X, y, v, w).tolist()
        [[-0.5, 0.25]]
        """
        u = torch.zeros_like(v) if u is None else u
        with _forward_mode():
            if mode == "jvp":

                def directional(f, direction):
                    return jvp(lambda g: self.losses(g, X, y), (f,), (direction,))[1]

                first, second = jvp(directional, (flat, v), (w, u))
                return torch.stack([first, second], dim=1)
            if mode != "per_sample":
                raise ValueError(f"mode must be 'jvp' or 'per_sample', got {mode!r}")
            gradients, curvatures = self._gradients_and_curvatures(flat, X, y, w)
        return torch.stack([gradients @ v, curvatures @ v + gradients @ u], dim=1)

    def _gradients_and_curvatures(self, flat, X, y, w):
        """Per-sample ``G_z`` and ``H_z·w`` of a chunk (forward-over-reverse), each (n, p)."""

        def single(f, x, t):
            return self.losses(f, x.unsqueeze(0), t.unsqueeze(0)).sum()

        def one(x, t):
            return jvp(lambda f: grad(single)(f, x, t), (flat,), (w,))

        with _forward_mode():
            return vmap(one)(X, y)


def exact_hvp(gradient, theta, vector):
    """Exact Hessian-vector product, forward-over-reverse.

    ``H·v = d/ds ∇L(θ + s·v)`` at ``s = 0``, taken by forward-mode
    differentiation (:func:`torch.func.jvp`) of the reverse-mode gradient:
    about the cost of two gradients, no step size, no cancellation. Where
    the loss is not twice differentiable (a ReLU exactly at its kink) it is
    autograd's convention, ReLU's second derivative taken as zero.

    Parameters
    ----------
    gradient : callable
        ``gradient(theta) -> ∇L(theta)``, flat tensors, written with
        :mod:`torch.func` or plain out-of-place torch operations so that
        forward-mode AD can go through it.
    theta, vector : torch.Tensor of shape (n_params,)

    Returns
    -------
    torch.Tensor of shape (n_params,)

    See Also
    --------
    finite_difference_hvp : the reference code's approximation.

    Examples
    --------
    >>> import torch
    >>> from skprune.influence import exact_hvp
    >>> A = torch.tensor([[2.0, 1.0], [1.0, 3.0]])
    >>> exact_hvp(lambda t: A @ t, torch.zeros(2), torch.tensor([1.0, 0.0])).tolist()
    [2.0, 1.0]
    """
    with _forward_mode():
        return jvp(gradient, (theta,), (vector,))[1]


def finite_difference_hvp(gradient, theta, vector, epsilon=1e-3, *, gradient_at_theta=None):
    """Hessian-vector product by a forward difference of gradients.

    ``H·v ≈ (∇L(θ + ε·v/‖v‖) − ∇L(θ)) / (ε/‖v‖)``: the step has length ε
    whatever the size of ``v``, which keeps float32 round-off in check. On
    piecewise-linear networks (ReLU) a step that crosses a kink of some
    activation picks up the jump of the gradient there (ReLU's derivative
    steps from 0 to 1) divided by the step, a term of order ``1/ε`` that
    the local Hessian does not have; :func:`exact_hvp` has no such term.

    Parameters
    ----------
    gradient : callable
        ``gradient(theta) -> ∇L(theta)``, flat tensors.
    theta, vector : torch.Tensor of shape (n_params,)
    epsilon : float, default=1e-3
        Length of the step in parameter space.
    gradient_at_theta : torch.Tensor or None, default=None
        ``gradient(theta)`` when the caller has it already (saves one gradient).

    Returns
    -------
    torch.Tensor of shape (n_params,)

    See Also
    --------
    exact_hvp : the same product without approximation.

    Examples
    --------
    >>> import torch
    >>> from skprune.influence import finite_difference_hvp
    >>> A = torch.tensor([[2.0, 1.0], [1.0, 3.0]])
    >>> hv = finite_difference_hvp(lambda t: A @ t, torch.zeros(2), torch.tensor([1.0, 0.0]))
    >>> torch.allclose(hv, A[:, 0])
    True
    """
    norm = torch.linalg.vector_norm(vector)
    if norm == 0:
        return torch.zeros_like(vector)
    step = epsilon / norm
    here = gradient(theta) if gradient_at_theta is None else gradient_at_theta
    return (gradient(theta + step * vector) - here) / step


def _check_hvp(hvp):
    if hvp not in HVP_METHODS:
        raise ValueError(f"hvp must be one of {HVP_METHODS}, got {hvp!r}")


def checkpoint_directions(
    model,
    *,
    X_target,
    y_target,
    X_hessian,
    y_hessian,
    epsilon=1e-3,
    batch_size=1024,
    second_order=True,
    hvp="exact",
):
    """The parameter-space vectors one checkpoint's influence needs.

    Returns a dict of flat tensors: ``"target"`` = ``G_V`` (mean gradient over
    the target set) and, with ``second_order``, ``"batch"`` = ``G_B`` (mean
    gradient over the Hessian batch) and ``"hvp"`` = ``u = H_B·G_V``, by
    :func:`exact_hvp` (``hvp="exact"``) or :func:`finite_difference_hvp`
    with step ``epsilon`` (``hvp="finite_difference"``; ``epsilon`` is unused
    otherwise). TracIn needs only ``G_V``.
    """
    _check_hvp(hvp)
    theta = model.theta
    g_target = model.mean_gradient(theta, X_target, y_target, batch_size=batch_size)
    if not second_order:
        return {"target": g_target}

    def hessian_gradient(flat):
        return model.mean_gradient(flat, X_hessian, y_hessian, batch_size=batch_size)

    if hvp == "exact":
        # One forward-over-reverse pass gives G_B (its primal) and H_B·G_V.
        with _forward_mode():
            g_batch, u = jvp(hessian_gradient, (theta,), (g_target,))
    else:
        g_batch = hessian_gradient(theta)
        u = finite_difference_hvp(
            hessian_gradient, theta, g_target, epsilon, gradient_at_theta=g_batch
        )
    return {"target": g_target, "batch": g_batch, "hvp": u}


def directional_terms(
    model,
    X,
    y,
    directions,
    *,
    epsilon=1e-3,
    batch_size=256,
    mode="jvp",
    second_order=True,
    hvp="exact",
):
    """First- and second-order terms of every sample from :func:`checkpoint_directions`.

    - ``first[z] = ⟨G_V, G_z⟩`` (TracIn's integrand);
    - ``second[z] = ⟨G_V, H_B·G_z + H_z·G_B⟩`` (Diff-In's bracket), computed
      as ``⟨u, G_z⟩ + ⟨G_V, H_z·G_B⟩`` with ``u = H_B·G_V`` (the Hessian is
      symmetric), never a per-sample Hessian. ``hvp="exact"`` takes both
      terms in one forward-over-forward pass per chunk
      (:meth:`FunctionalModel.curvature_terms`); ``hvp="finite_difference"``
      takes ``⟨G_V, H_z·G_B⟩`` as ``⟨G_V, ∇ℓ(z; θ + s·G_B) − G_z⟩ / s`` with
      ``s = ε/‖G_B‖`` (the only use of ``epsilon``): three directional
      derivatives per sample.

    With ``second_order=False`` (TracIn) only ``first`` is computed, from
    ``directions["target"]`` alone, and ``second`` is zero.

    Returns
    -------
    first, second : ndarray of shape (n_samples,)
    """
    _check_hvp(hvp)
    theta = model.theta
    g_target = directions["target"].to(model.device)
    if second_order:
        g_batch = directions["batch"].to(model.device)
        batch_norm = torch.linalg.vector_norm(g_batch)
        # A zero batch gradient has no H_z·G_B term.
        step = epsilon / batch_norm if batch_norm > 0 else None
        here_directions = torch.stack([g_target, directions["hvp"].to(model.device)])
    else:
        here_directions = g_target[None]
    if second_order and hvp == "exact":
        u = directions["hvp"].to(model.device)
        terms = []
        for X_chunk, y_chunk in model._batches(X, y, batch_size):
            with torch.no_grad():
                terms.append(
                    model.curvature_terms(theta, X_chunk, y_chunk, g_target, g_batch, u, mode)
                )
        terms = torch.cat(terms).cpu().numpy().astype(np.float64)
        return terms[:, 0].copy(), terms[:, 1].copy()
    first, second = [], []
    for X_chunk, y_chunk in model._batches(X, y, batch_size):
        with torch.no_grad():
            here = model.directional_derivatives(theta, X_chunk, y_chunk, here_directions, mode)
            first.append(here[:, 0])
            if not second_order:
                continue
            if step is None:
                second.append(here[:, 1])
                continue
            moved = theta + step * g_batch
            there = model.directional_derivatives(moved, X_chunk, y_chunk, g_target[None], mode)
            second.append(here[:, 1] + (there[:, 0] - here[:, 0]) / step)
    first = torch.cat(first).cpu().numpy().astype(np.float64)
    if not second_order:
        return first, np.zeros_like(first)
    return first, torch.cat(second).cpu().numpy().astype(np.float64)


def checkpoint_terms(
    model,
    X,
    y,
    *,
    X_target,
    y_target,
    X_hessian,
    y_hessian,
    epsilon=1e-3,
    batch_size=256,
    mode="jvp",
    hvp="exact",
):
    """First- and second-order influence of every sample on a target set, one checkpoint.

    :func:`checkpoint_directions` followed by :func:`directional_terms`.

    Parameters
    ----------
    model : FunctionalModel
    X, y : ndarray
        Samples to score (labels encoded as 0..n_classes-1); ``X`` may also be
        a torch ``Dataset`` (items ``x`` or ``(x, target)``), read chunk by chunk.
    X_target, y_target : ndarray
        The target set V (``X_target`` may be a dataset too).
    X_hessian, y_hessian : ndarray
        The batch B standing in for the training set in ``G_B`` and ``H_B``.
    epsilon : float, default=1e-3
        Finite-difference step length; used only with ``hvp="finite_difference"``.
    batch_size : int, default=256
        Samples per chunk (bounds memory).
    mode : {"jvp", "per_sample"}, default="jvp"
        See :meth:`FunctionalModel.directional_derivatives`.
    hvp : {"exact", "finite_difference"}, default="exact"
        How Hessian-vector products are taken: :func:`exact_hvp` and
        forward-mode second derivatives, or the reference code's forward
        differences (:func:`finite_difference_hvp`).

    Returns
    -------
    first, second : ndarray of shape (n_samples,)
    """
    directions = checkpoint_directions(
        model,
        X_target=X_target,
        y_target=y_target,
        X_hessian=X_hessian,
        y_hessian=y_hessian,
        epsilon=epsilon,
        batch_size=max(batch_size, 1024),
        hvp=hvp,
    )
    return directional_terms(
        model, X, y, directions, epsilon=epsilon, batch_size=batch_size, mode=mode, hvp=hvp
    )


def self_checkpoint_terms(
    model,
    X,
    y,
    *,
    X_hessian,
    y_hessian,
    epsilon=1e-3,
    batch_size=32,
    second_order=True,
    hvp="exact",
):
    """Self-influence terms (target V = {z}) of every sample at one checkpoint.

    - ``first[z] = ‖G_z‖²``;
    - ``second[z] = ⟨G_z, H_B·G_z⟩ + ⟨G_z, H_z·G_B⟩``. The second part is
      the derivative of the per-sample gradients along ``G_B`` (shared by all
      samples); the first is a Hessian-vector product of the Hessian batch
      along each sample's own gradient, so it costs about ``len(X_hessian)``
      sample gradients per sample: keep the batch small. ``hvp="exact"``
      takes both by forward-over-reverse differentiation (:func:`exact_hvp`),
      ``hvp="finite_difference"`` by forward differences of step ``epsilon``
      (used only then).

    Returns
    -------
    first, second : ndarray of shape (n_samples,)
    """
    _check_hvp(hvp)
    theta = model.theta
    X_h = torch.as_tensor(_read_rows(X_hessian, 0, len(X_hessian)), device=model.device)
    y_h = torch.as_tensor(y_hessian, device=model.device)
    g_batch = model.mean_gradient(theta, X_hessian, y_hessian)
    batch_norm = torch.linalg.vector_norm(g_batch)

    def batch_gradient(f):
        return grad(lambda g: model.losses(g, X_h, y_h).mean())(f)

    def curvature_along(g):
        norm = torch.linalg.vector_norm(g)
        step = epsilon / norm.clamp_min(1e-30)
        return (g @ batch_gradient(theta + step * g) - g @ g_batch) / step

    def exact_curvature_along(g):
        return g @ jvp(batch_gradient, (theta,), (g,))[1]

    first, second = [], []
    for X_chunk, y_chunk in model._batches(X, y, batch_size):
        with torch.no_grad():
            if second_order and hvp == "exact":
                G, HG = model._gradients_and_curvatures(theta, X_chunk, y_chunk, g_batch)
                with _forward_mode():
                    own = vmap(exact_curvature_along)(G)
                first.append((G * G).sum(dim=1))
                second.append(own + (G * HG).sum(dim=1))
                continue
            G = model.per_sample_gradients(theta, X_chunk, y_chunk)
            first.append((G * G).sum(dim=1))
            if not second_order:
                continue
            own = vmap(curvature_along)(G)
            if batch_norm > 0:
                step = epsilon / batch_norm
                G_moved = model.per_sample_gradients(theta + step * g_batch, X_chunk, y_chunk)
                cross = ((G * G_moved).sum(dim=1) - (G * G).sum(dim=1)) / step
            else:
                cross = torch.zeros_like(own)
            second.append(own + cross)
    first = torch.cat(first).cpu().numpy().astype(np.float64)
    second = (
        torch.cat(second).cpu().numpy().astype(np.float64) if second_order else np.zeros_like(first)
    )
    return first, second


def effective_learning_rates(learning_rates, momenta):
    """Step sizes the derivation's plain SGD would take for the recorded optimizer.

    Diff-In and TracIn assume plain SGD, ``θ ← θ − η·g``. With heavy-ball
    momentum β the steady-state step is ``η / (1 − β)``, used here. Optimizers
    without a momentum setting (Adam, RMSprop: NaN momenta) rescale every
    coordinate on their own; their nominal learning rate is kept and a warning
    says that the estimate is then only a ranking heuristic.

    Examples
    --------
    >>> from skprune.influence import effective_learning_rates
    >>> effective_learning_rates([0.1, 0.1], [0.0, 0.9]).round(6).tolist()
    [0.1, 1.0]
    """
    learning_rates = np.asarray(learning_rates, dtype=np.float64)
    momenta = np.asarray(momenta, dtype=np.float64)
    if np.isnan(momenta).any():
        warnings.warn(
            "the scoring net's optimizer has no SGD momentum setting (e.g. Adam); influence "
            "assumes SGD steps, so its scale is off and only the ranking is meaningful. "
            "Use torch.optim.SGD for calibrated estimates.",
            UserWarning,
        )
        return learning_rates
    return learning_rates / (1.0 - momenta)


def accumulate_influence(first, second, *, steps, learning_rates, n_train, total_steps):
    """Sum per-checkpoint terms into TracIn and Diff-In's second-order influence.

    With m checkpoints at global steps ``t_k`` and step sizes ``η_k``:

    - ``first_order = (T/m) Σ_k (η_k/N) · first_k`` — TracIn; the ``T/m``
      factor turns the sum over checkpoints into one over all T steps. With
      plain SGD this is the first-order change of the target loss when the
      sample is *removed* (positive = the sample helps the target).
    - ``second_order = Σ_k −t_k·η_k² / (N·m) · second_k`` — the coefficient of
      the Diff-In reference code.

    Parameters
    ----------
    first, second : array-like of shape (m, n_samples)
    steps, learning_rates : array-like of shape (m,)
    n_train : int
        Number of samples the scoring net trained on (N).
    total_steps : int
        Optimizer steps of the whole training (T).

    Returns
    -------
    first_order, second_order : ndarray of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> from skprune.influence import accumulate_influence
    >>> fo, so = accumulate_influence(
    ...     np.ones((2, 1)), np.ones((2, 1)), steps=[1, 3], learning_rates=[0.5, 0.5],
    ...     n_train=10, total_steps=4)
    >>> fo.tolist(), so.tolist()  # 2·(0.05+0.05) and −(1+3)·0.25/20
    ([0.2], [-0.05])
    """
    first = np.asarray(first, dtype=np.float64)
    second = np.asarray(second, dtype=np.float64)
    steps = np.asarray(steps, dtype=np.float64)
    learning_rates = np.asarray(learning_rates, dtype=np.float64)
    m = steps.shape[0]
    first_weights = (total_steps / m) * learning_rates / n_train
    second_weights = -steps * learning_rates**2 / (n_train * m)
    return first_weights @ first, second_weights @ second
