"""Graph Isomorphism Network surrogate in plain torch (no torch-geometric).

The architecture is the op-on-node DAG of
:func:`~surrogate_eo.surrogates.graphs.graph_encoding` (input, one node per
cell edge, output; dense adjacency, so a batch is three tensors). Each layer
is ``h ← MLP((1 + ε) h + A h)`` (Xu et al., ICLR 2019); the readout sums the
node states of every layer, appends the macro one-hot, and an MLP gives the
(standardised) target. Weights are saved with safetensors. Fitting, predicting
and artifacts are :class:`~surrogate_eo.surrogates._graph_fit.GraphSurrogate`'s
(Adam, MSE, cosine-annealed learning rate).

torch is imported only when a GIN is built, fitted, predicted or loaded.
"""
from __future__ import annotations

from typing import Any, ClassVar

from ._graph_fit import GraphSurrogate


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


class GINSurrogate(GraphSurrogate):
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
    label: ClassVar[str] = "GIN"

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

    def _build(self, torch: Any, n_node_feats: int, n_globals: int, extra: dict[str, Any]) -> Any:
        return _build_net(torch, n_node_feats, n_globals, int(self.hidden), int(self.layers))

    @staticmethod
    def suggest_params(trial: Any) -> dict[str, Any]:
        """Optuna search space (used by :func:`~surrogate_eo.surrogates.tuning.tune`)."""
        return {
            "hidden": trial.suggest_categorical("hidden", [32, 64, 128]),
            "layers": trial.suggest_int("layers", 2, 4),
            "lr": trial.suggest_float("lr", 3e-4, 1e-2, log=True),
            "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-3, log=True),
        }
