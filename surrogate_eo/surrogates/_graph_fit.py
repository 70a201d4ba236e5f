"""What the graph surrogates (GIN, flow GNN) share: tensors, the training loop, predict, artifacts.

:class:`GraphSurrogate` implements ``fit``/``predict``/``_save_state``/
``_load_state`` once; a subclass supplies its network (``_build``), and
optionally a starting state (``_initial_state``, the GNN's pretrained
encoder), the trainable parameters, the optimiser, the batch-size rule and
extra artifact state. Targets are standardised, or, for a model with
``target="normal"``, replaced by the normal scores of their ranks
(:func:`~surrogate_eo.surrogates.targets.normal_score_knots`; predictions map back through the
same knots), which keeps the long lower tail of accuracy
tables (dead archs) from dominating the MSE. The loop minimises MSE plus,
when the model has ``rank_weight > 0``, a pairwise logistic ranking loss,
with a cosine-annealed learning rate; batches are drawn from a
``torch.Generator`` seeded with the model's seed, and the network is built
right after ``torch.manual_seed(seed)``, so a fit is reproducible.

torch is imported only when a graph model is built, fitted, predicted or loaded.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._imports import require, require_torch, torch_threads
from ..spaces import get_space
from ..spaces.base import BatchLike
from .base import Surrogate, check_choice, check_training_data
from .canonical import canonical_representatives
from .features import Featurizer
from .graphs import graph_encoding
from .targets import from_normal_scores, knots_state, normal_score_knots, read_knots, to_normal_scores

#: Archs per forward pass when predicting (bounds the dense adjacency tensors' memory).
PREDICT_CHUNK = 4096
#: What a graph model regresses on: ``standard`` (z-scores of y) or ``normal`` (normal scores of y's ranks).
TARGETS: tuple[str, ...] = ("standard", "normal")


def graph_tensors(torch: Any, space: str, batch: np.ndarray, canonical: bool = True) -> tuple[Any, Any, Any]:
    """``(adj, nodes, globals)`` torch tensors of :func:`graph_encoding`, of class representatives by default."""
    if canonical:
        batch = canonical_representatives(space, batch)
    adj, nodes, glob = graph_encoding(space, batch)
    return torch.from_numpy(adj), torch.from_numpy(nodes), torch.from_numpy(glob)


def pairwise_rank_loss(torch: Any, pred: Any, target: Any) -> Any:
    """Mean logistic loss ``softplus(-sign(t_i - t_j) (p_i - p_j))`` over ordered pairs with distinct targets."""
    dp = pred[:, None] - pred[None, :]
    sign = torch.sign(target[:, None] - target[None, :])
    return torch.nn.functional.softplus(-sign * dp)[sign != 0].mean()


def train_net(torch: Any, net: Any, params: Any, tensors: tuple[Any, Any, Any], target: Any, *, epochs: int,
              batch_size: int, optimizer: Any, rank_weight: float, seed: int) -> None:
    """Train ``net`` in place on ``tensors`` → ``target`` (standardised), as described in the module docstring.

    Parameters
    ----------
    optimizer : callable
        ``optimizer(params) -> torch.optim.Optimizer``.
    batch_size : int
        Archs per step (the last batch of an epoch may be smaller).
    """
    adj, nodes, glob = tensors
    n = int(target.shape[0])
    opt = optimizer(params)
    steps = int(epochs) * ((n + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, steps))
    gen = torch.Generator().manual_seed(int(seed))
    net.train()
    for _ in range(int(epochs)):
        perm = torch.randperm(n, generator=gen)
        for start in range(0, n, batch_size):
            idx = perm[start:start + batch_size]
            opt.zero_grad()
            pred = net(adj[idx], nodes[idx], glob[idx])
            loss = torch.nn.functional.mse_loss(pred, target[idx])
            if rank_weight > 0 and len(idx) > 1:
                loss = loss + rank_weight * pairwise_rank_loss(torch, pred, target[idx])
            loss.backward()
            opt.step()
            sched.step()
    net.eval()


class GraphSurrogate(Surrogate):
    """Base of the graph surrogates: fit/predict/artifacts on the op-on-node DAG of class representatives.

    Subclasses define the keyword-only constructor (``space``, ``hidden``,
    ``layers``, ``epochs``, ``lr``, ``batch_size``, ``weight_decay``, ``seed``,
    ``n_threads`` at least) and :meth:`_build`.

    Attributes
    ----------
    net_ : torch.nn.Module
    y_mean_, y_std_ : float
        Target standardisation (0 and 1 with ``target="normal"``).
    knots_ : (ndarray, ndarray) or None
        Knots ``(z, y)`` of the normal-score map (``target="normal"``), saved with the artifact.
    featurizer_ : Featurizer
        One-hot featurizer that records the space (graph models read graphs).
    n_train_ : int
    """

    uses_features: ClassVar[bool] = False
    #: Short name in messages ("GIN", "GNN").
    label: ClassVar[str] = "graph"
    #: Integer build arguments (from :meth:`_initial_state`) saved in the artifact state.
    extra_keys: ClassVar[tuple[str, ...]] = ()

    space: str
    hidden: int
    layers: int
    epochs: int
    lr: float
    batch_size: int
    weight_decay: float
    seed: int
    n_threads: int

    # ------------------------------------------------------------ hooks
    def _build(self, torch: Any, n_node_feats: int, n_globals: int, extra: dict[str, Any]) -> Any:
        """The untrained network (called right after ``torch.manual_seed(seed)``)."""
        raise NotImplementedError  # pragma: no cover - abstract

    def _initial_state(self, torch: Any) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """``(state_dict to start from or None, extra build arguments saved with the artifact)``."""
        return None, {}

    def _trainable(self, net: Any) -> Any:
        return net.parameters()

    def _optimizer(self, torch: Any) -> Any:
        return lambda params: torch.optim.Adam(params, lr=float(self.lr), weight_decay=float(self.weight_decay))

    def _steps_batch(self, n: int) -> int:
        return max(1, int(self.batch_size))

    # ------------------------------------------------------------ shared
    def _target_kind(self) -> str:
        return str(getattr(self, "target", "standard"))

    def validate_params(self) -> None:
        """The numeric rules of :data:`~surrogate_eo.surrogates.base.PARAM_RULES`, and ``target`` in :data:`TARGETS`."""
        super().validate_params()
        check_choice(type(self).__name__, "target", getattr(self, "target", "standard"), TARGETS)

    def _make_featurizer(self) -> Featurizer:
        return Featurizer(space=self.space, blocks=("onehot",), canonical=True)

    def _tensors(self, torch: Any, batch: np.ndarray, canonical: bool = True) -> tuple[Any, Any, Any]:
        return graph_tensors(torch, self.space, batch, canonical)

    def _net(self, torch: Any, extra: dict[str, Any]) -> Any:
        _, nodes, glob = graph_encoding(self.space, get_space(self.space).sample(1, seed=0))
        return self._build(torch, nodes.shape[2], glob.shape[1], extra)

    def fit(self, archs: BatchLike, y: Any) -> GraphSurrogate:
        """Train the network on ``(archs, y)``. Returns ``self``."""
        self.validate_params()
        torch = require_torch(f"the {self.label} surrogate")
        batch, yy = check_training_data(get_space(self.space), archs, y)
        with torch_threads(torch, int(self.n_threads)):
            state, extra = self._initial_state(torch)
            torch.manual_seed(int(self.seed))
            net = self._net(torch, extra)
            if state is not None:
                net.load_state_dict(state)
            tensors = self._tensors(torch, batch)
            if self._target_kind() == "normal":
                knots: tuple[np.ndarray, np.ndarray] | None = normal_score_knots(yy)
                mean, std, z = 0.0, 1.0, to_normal_scores(yy, knots)
            else:
                knots, mean, std = None, float(yy.mean()), float(yy.std()) or 1.0
                z = (yy - mean) / std
            target = torch.from_numpy(z.astype(np.float32))
            train_net(torch, net, self._trainable(net), tensors, target, epochs=int(self.epochs),
                      batch_size=self._steps_batch(len(yy)), optimizer=self._optimizer(torch),
                      rank_weight=float(getattr(self, "rank_weight", 0.0)), seed=int(self.seed))
        self.net_ = net
        self.extra_ = extra
        self.y_mean_, self.y_std_ = mean, std
        self.knots_ = knots
        self.featurizer_ = self._make_featurizer()
        self.n_train_ = len(yy)
        return self

    def predict(self, archs: BatchLike) -> np.ndarray:
        """Predicted targets, shape ``(n,)``; isomorphic archs get one value."""
        self._check_fitted()
        torch = require_torch(f"the {self.label} surrogate")
        batch = get_space(self.space).validate(archs)
        out = []
        with torch_threads(torch, int(self.n_threads)), torch.no_grad():
            for start in range(0, len(batch), PREDICT_CHUNK):
                adj, nodes, glob = self._tensors(torch, batch[start:start + PREDICT_CHUNK],
                                                 self.featurizer_.canonical)
                out.append(self.net_(adj, nodes, glob).numpy().astype(np.float64))
        pred = np.concatenate(out) if out else np.zeros(0)
        if getattr(self, "knots_", None) is not None:
            return from_normal_scores(pred, self.knots_)
        return pred * self.y_std_ + self.y_mean_

    # ---------------------------------------------------------- artifacts
    def _save_state(self) -> tuple[dict[str, Any], dict[str, bytes]]:
        st = require("safetensors.torch", f"saving a {self.label} surrogate")
        tensors = {k: v.detach().contiguous() for k, v in self.net_.state_dict().items()}
        state = {"y_mean": self.y_mean_, "y_std": self.y_std_, **self.extra_,
                 **knots_state(getattr(self, "knots_", None))}
        return state, {"weights.safetensors": st.save(tensors)}

    def _load_state(self, state: dict[str, Any], files: dict[str, bytes]) -> None:
        torch = require_torch(f"loading a {self.label} surrogate")
        st = require("safetensors.torch", f"loading a {self.label} surrogate")
        from ..errors import ArtifactError

        try:
            extra = {k: int(state[k]) for k in self.extra_keys}
            y_mean, y_std = float(state["y_mean"]), float(state["y_std"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtifactError(f"{self.label} state {str(state)[:200]} lacks or garbles "
                                f"{', '.join(('y_mean', 'y_std') + self.extra_keys)} ({exc!r}); "
                                f"refit the model") from None
        knots = read_knots(state, self.label) if self._target_kind() == "normal" else None
        tensors = st.load(files["weights.safetensors"])
        net = self._net(torch, extra)
        try:
            net.load_state_dict(tensors, strict=True)
        except RuntimeError as exc:
            raise ArtifactError(f"{self.label} weights do not fit a {self.label} with hidden={self.hidden}, "
                                f"layers={self.layers}: {' '.join(str(exc).split())[:300]}") from None
        net.eval()
        self.net_ = net
        self.extra_ = extra
        self.y_mean_, self.y_std_ = y_mean, y_std
        self.knots_ = knots
