"""Graph Isomorphism Network surrogate in plain torch (no torch-geometric).

The architecture is the op-on-node DAG of
:func:`~surrogate_eo.surrogates.features.graph_encoding` (input, one node per
cell edge, output; dense adjacency, so a batch is three tensors). Each layer
is ``h ← MLP((1 + ε) h + A h)`` (Xu et al., ICLR 2019); the readout sums the
node states of every layer, appends the macro one-hot, and an MLP gives the
(standardised) target. Weights are saved with safetensors.

torch is imported only when a GIN is built, fitted, predicted or loaded.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._imports import require, require_torch
from ..spaces import get_space
from ..spaces.base import BatchLike
from .base import Surrogate, check_training_data
from .features import Featurizer, canonical_representatives, graph_encoding


def _build_net(torch: Any, n_node_feats: int, n_globals: int, hidden: int, layers: int) -> Any:
    nn = torch.nn

    class GINNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Linear(n_node_feats, hidden)
            self.eps = nn.Parameter(torch.zeros(layers))
            self.mlps = nn.ModuleList(
                nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
                for _ in range(layers)
            )
            self.head = nn.Sequential(nn.Linear(hidden * (layers + 1) + n_globals, hidden), nn.ReLU(),
                                      nn.Linear(hidden, 1))

        def forward(self, adj: Any, nodes: Any, glob: Any) -> Any:
            h = self.embed(nodes)
            reads = [h.sum(dim=1)]
            for k, mlp in enumerate(self.mlps):
                h = mlp((1.0 + self.eps[k]) * h + adj @ h)
                reads.append(h.sum(dim=1))
            return self.head(torch.cat(reads + [glob], dim=1)).squeeze(1)

    return GINNet()


class GINSurrogate(Surrogate):
    """GIN regression surrogate trained with Adam on standardised targets (MSE).

    Parameters
    ----------
    space : str, default="eo"
    hidden : int, default=64
        Width of node states and MLPs.
    layers : int, default=3
        Message-passing layers.
    epochs : int, default=300
        Passes over the training set.
    lr : float, default=3e-3
        Adam learning rate (cosine-annealed to 0).
    batch_size : int, default=64
    weight_decay : float, default=1e-5
    seed : int, default=0
    n_threads : int, default=1
        ``torch.set_num_threads`` while fitting/predicting.

    Attributes
    ----------
    net_ : torch.nn.Module
    y_mean_, y_std_ : float
        Target standardisation.
    featurizer_ : Featurizer
        One-hot featurizer (only records the space; the GIN reads graphs).
    n_train_ : int
    """

    family: ClassVar[str] = "gin"
    uses_features: ClassVar[bool] = False

    def __init__(self, *, space: str = "eo", hidden: int = 64, layers: int = 3, epochs: int = 300,
                 lr: float = 3e-3, batch_size: int = 64, weight_decay: float = 1e-5, seed: int = 0,
                 n_threads: int = 1) -> None:
        self.space = space
        self.hidden = hidden
        self.layers = layers
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.seed = seed
        self.n_threads = n_threads

    def _make_featurizer(self) -> Featurizer:
        return Featurizer(space=self.space, blocks=("onehot",), canonical=True)

    def _tensors(self, torch: Any, batch: np.ndarray, canonical: bool = True) -> tuple[Any, Any, Any]:
        if canonical:
            batch = canonical_representatives(self.space, batch)
        adj, nodes, glob = graph_encoding(self.space, batch)
        return torch.from_numpy(adj), torch.from_numpy(nodes), torch.from_numpy(glob)

    def fit(self, archs: BatchLike, y: Any) -> GINSurrogate:
        """Train the network. Returns ``self``."""
        self.validate_params()
        torch = require_torch("the GIN surrogate")
        batch, yy = check_training_data(get_space(self.space), archs, y)
        old_threads = torch.get_num_threads()
        torch.set_num_threads(int(self.n_threads))
        try:
            gen = torch.Generator().manual_seed(int(self.seed))
            torch.manual_seed(int(self.seed))
            adj, nodes, glob = self._tensors(torch, batch)
            mean, std = float(yy.mean()), float(yy.std()) or 1.0
            target = torch.from_numpy(((yy - mean) / std).astype(np.float32))
            net = _build_net(torch, nodes.shape[2], glob.shape[1], int(self.hidden), int(self.layers))
            opt = torch.optim.Adam(net.parameters(), lr=float(self.lr), weight_decay=float(self.weight_decay))
            n, bs = len(yy), max(1, int(self.batch_size))
            steps = int(self.epochs) * ((n + bs - 1) // bs)
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, steps))
            net.train()
            for _ in range(int(self.epochs)):
                perm = torch.randperm(n, generator=gen)
                for start in range(0, n, bs):
                    idx = perm[start:start + bs]
                    opt.zero_grad()
                    loss = torch.nn.functional.mse_loss(net(adj[idx], nodes[idx], glob[idx]), target[idx])
                    loss.backward()
                    opt.step()
                    sched.step()
            net.eval()
        finally:
            torch.set_num_threads(old_threads)
        self.net_ = net
        self.y_mean_, self.y_std_ = mean, std
        self.featurizer_ = self._make_featurizer()
        self.n_train_ = len(yy)
        return self

    def predict(self, archs: BatchLike) -> np.ndarray:
        """Predicted targets, shape ``(n,)``."""
        self._check_fitted()
        torch = require_torch("the GIN surrogate")
        batch = get_space(self.space).validate(archs)
        old_threads = torch.get_num_threads()
        torch.set_num_threads(int(self.n_threads))
        try:
            out = []
            with torch.no_grad():
                for start in range(0, len(batch), 4096):
                    adj, nodes, glob = self._tensors(torch, batch[start:start + 4096], self.featurizer_.canonical)
                    out.append(self.net_(adj, nodes, glob).numpy().astype(np.float64))
        finally:
            torch.set_num_threads(old_threads)
        pred = np.concatenate(out) if out else np.zeros(0)
        return pred * self.y_std_ + self.y_mean_

    # artifacts ---------------------------------------------------------------
    def _save_state(self) -> tuple[dict[str, Any], dict[str, bytes]]:
        st = require("safetensors.torch", "saving a GIN surrogate")
        tensors = {k: v.detach().contiguous() for k, v in self.net_.state_dict().items()}
        return {"y_mean": self.y_mean_, "y_std": self.y_std_}, {"weights.safetensors": st.save(tensors)}

    def _load_state(self, state: dict[str, Any], files: dict[str, bytes]) -> None:
        torch = require_torch("loading a GIN surrogate")
        st = require("safetensors.torch", "loading a GIN surrogate")
        from ..errors import ArtifactError

        tensors = st.load(files["weights.safetensors"])
        _, nodes, glob = graph_encoding(self.space, get_space(self.space).sample(1, seed=0))
        net = _build_net(torch, nodes.shape[2], glob.shape[1], int(self.hidden), int(self.layers))
        try:
            net.load_state_dict(tensors, strict=True)
        except RuntimeError as exc:
            raise ArtifactError(f"GIN weights do not fit a GIN with hidden={self.hidden}, "
                                f"layers={self.layers}: {' '.join(str(exc).split())[:300]}") from None
        net.eval()
        self.net_ = net
        self.y_mean_, self.y_std_ = float(state["y_mean"]), float(state["y_std"])

    @staticmethod
    def suggest_params(trial: Any) -> dict[str, Any]:
        """Optuna search space (used by :func:`~surrogate_eo.surrogates.tuning.tune`)."""
        return {
            "hidden": trial.suggest_categorical("hidden", [32, 64, 128]),
            "layers": trial.suggest_int("layers", 2, 4),
            "lr": trial.suggest_float("lr", 3e-4, 1e-2, log=True),
            "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-3, log=True),
        }
