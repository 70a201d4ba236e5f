"""Flow GNN surrogate in plain torch: data-flow message passing plus label-free pretraining.

The architecture is the op-on-node DAG of
:func:`~surrogate_eo.surrogates.graphs.graph_encoding` (input, one node per
cell edge, output), whose node order is topological. Each layer makes two
asynchronous sweeps that follow the cell's data flow, as FlowerFormer's flow
encoder does (Hwang et al., CVPR 2024): a *forward* sweep visits the nodes in
topological order and updates each with a GRU cell from the sum of its
predecessors' *already updated* states, so one sweep carries information
from the input to the output; a *backward* sweep does the same in reverse
order from the successors. The readout concatenates the output node's state
and the mean node state (plus the macro one-hot) and an MLP gives the target.

**Pretraining** (label-free, :mod:`~surrogate_eo.surrogates.pretrain`): the
encoder learns to predict each arch's structural features — live-edge op
counts, longest path, and the computation-path encoding (``derived`` +
``cpath`` blocks of :class:`~surrogate_eo.surrogates.features.Featurizer`,
standardised) — on every class representative of a finite space (``nb201``)
or a ``pretrain_sample`` of a larger one. The pretrained encoder (seeded 0: a
property of the space, not of the model's seed) is cached per (space,
hidden, layers, pretrain settings, code version) in the process and on disk;
each fit starts from it and fine-tunes everything but the pretraining head on
the labelled archs (normal scores of the targets' ranks by default) with MSE
plus a pairwise ranking loss (``rank_weight``),
using :class:`~surrogate_eo.surrogates._graph_fit.GraphSurrogate`'s loop.
Inputs are the isomorphism-class representatives, so isomorphic archs get one
prediction.

torch is imported only when a GNN is built, fitted, predicted or loaded.
Weights are saved with safetensors.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..spaces import get_space
from ._graph_fit import GraphSurrogate, graph_tensors
from .canonical import TABLE_LIMIT
from .pretrain import cached_state, pretrain_pool, structure_targets

#: Archs per pretraining step.
PRETRAIN_BATCH = 256


def _build_net(torch: Any, n_node_feats: int, n_globals: int, hidden: int, layers: int, n_aux: int) -> Any:
    nn = torch.nn

    class FlowNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Linear(n_node_feats, hidden)
            self.fwd = nn.ModuleList(nn.GRUCell(hidden, hidden) for _ in range(layers))
            self.bwd = nn.ModuleList(nn.GRUCell(hidden, hidden) for _ in range(layers))
            self.head = nn.Sequential(nn.Linear(2 * hidden + n_globals, hidden), nn.ReLU(), nn.Linear(hidden, 1))
            self.aux = nn.Linear(2 * hidden + n_globals, max(1, n_aux))  # pretraining head

        def encode(self, adj: Any, nodes: Any, glob: Any) -> Any:
            h = torch.tanh(self.embed(nodes))
            n_v = h.shape[1]
            for fwd, bwd in zip(self.fwd, self.bwd):
                states = list(h.unbind(1))
                for v in range(1, n_v):  # forward: predecessors are already updated
                    msg = torch.einsum("bu,buh->bh", adj[:, v, :v], torch.stack(states[:v], 1))
                    states[v] = fwd(msg, states[v])
                for v in range(n_v - 2, -1, -1):  # backward: successors are already updated
                    msg = torch.einsum("bw,bwh->bh", adj[:, v + 1:, v], torch.stack(states[v + 1:], 1))
                    states[v] = bwd(msg, states[v])
                h = torch.stack(states, 1)
            return torch.cat([h[:, -1], h.mean(dim=1), glob], dim=1)

        def forward(self, adj: Any, nodes: Any, glob: Any) -> Any:
            return self.head(self.encode(adj, nodes, glob)).squeeze(1)

    return FlowNet()


class GNNSurrogate(GraphSurrogate):
    """Flow GNN (forward + backward topological sweeps) with structural pretraining.

    Parameters
    ----------
    space : str, default="eo"
    hidden : int, default=64
        Node-state width (chosen by ``evaluation/nb201_gnn_ablation.py``: 64 beat 32
        and 128 at 78 CIFAR-10 archs on NB201; its table is in ``docs/surrogates.md``).
    layers : int, default=2
        Forward+backward sweep pairs.
    epochs : int, default=200
        Fine-tuning passes over the labelled archs.
    lr : float, default=2e-3
        AdamW learning rate (cosine-annealed).
    batch_size : int, default=64
        Archs per step, at least: batches grow beyond it so that an epoch is at most
        ``max_steps_per_epoch`` steps.
    max_steps_per_epoch : int, default=4
        Cap on optimiser steps per epoch. The number of steps is then flat in the
        training-set size and the work of a step grows with it (the ``fit s`` column of
        the generated tables in ``docs/surrogates.md``); a larger cap gives large
        training sets more, smaller steps for the same work.
    weight_decay : float, default=1e-4
        AdamW's decoupled weight decay.
    rank_weight : float, default=0.5
        Weight of the pairwise logistic ranking loss beside MSE.
    pretrain_epochs : int, default=24
        Label-free pretraining passes over the space (0: no pretraining; 24 beat 8 and
        matched 64 on NB201).
    pretrain_sample : int, default=20000
        Archs to pretrain on when the space is too large to enumerate.
    target : {"normal", "standard"}, default="normal"
        Regress on the normal scores of the targets' ranks (mapped back to target
        units when predicting) or on standardised targets; see
        :mod:`~surrogate_eo.surrogates._graph_fit`. ``normal`` is better at small
        training sets on NB201 (``evaluation/nb201_surrogates.py``).
    seed : int, default=0
    n_threads : int, default=1

    Attributes
    ----------
    net_ : torch.nn.Module
    y_mean_, y_std_ : float
    featurizer_ : Featurizer
        Records the space (the GNN reads graphs of canonical representatives).
    extra_ : dict
        ``{"n_aux": width of the pretraining head}`` (saved with the artifact).
    n_train_ : int
    """

    family: ClassVar[str] = "gnn"
    label: ClassVar[str] = "GNN"
    extra_keys: ClassVar[tuple[str, ...]] = ("n_aux",)

    def __init__(self, *, space: str = "eo", hidden: int = 64, layers: int = 2, epochs: int = 200,
                 lr: float = 2e-3, batch_size: int = 64, max_steps_per_epoch: int = 4, weight_decay: float = 1e-4,
                 rank_weight: float = 0.5, pretrain_epochs: int = 24, pretrain_sample: int = 20000,
                 target: str = "normal", seed: int = 0, n_threads: int = 1) -> None:
        self.space = space
        self.hidden = hidden
        self.layers = layers
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.max_steps_per_epoch = max_steps_per_epoch
        self.weight_decay = weight_decay
        self.rank_weight = rank_weight
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_sample = pretrain_sample
        self.target = target
        self.seed = seed
        self.n_threads = n_threads

    def _build(self, torch: Any, n_node_feats: int, n_globals: int, extra: dict[str, Any]) -> Any:
        return _build_net(torch, n_node_feats, n_globals, int(self.hidden), int(self.layers), int(extra["n_aux"]))

    def _initial_state(self, torch: Any) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """The pretrained encoder (cached; None without pretraining) and the pretraining head's width."""
        space = get_space(self.space)
        pool = pretrain_pool(space, int(self.pretrain_sample))
        aux = structure_targets(space, pool)
        extra = {"n_aux": int(aux.shape[1])}
        if int(self.pretrain_epochs) <= 0:
            return None, extra
        key = {"space": space.name, "hidden": int(self.hidden), "layers": int(self.layers),
               "pretrain_epochs": int(self.pretrain_epochs), "pool": len(pool),
               "pretrain_sample": int(self.pretrain_sample) if space.size > TABLE_LIMIT else None}
        return cached_state(key, lambda: self._pretrain(torch, pool, aux, extra)), extra

    def _pretrain(self, torch: Any, pool: np.ndarray, aux: np.ndarray, extra: dict[str, Any]) -> dict[str, Any]:
        """Seeded-0 pretraining of a fresh network on ``pool`` → ``aux`` (MSE on the ``aux`` head)."""
        torch.manual_seed(0)
        net = self._net(torch, extra)
        adj, nodes, glob = graph_tensors(torch, self.space, pool)
        target = torch.from_numpy(aux)
        opt = torch.optim.Adam(net.parameters(), lr=3e-3)
        gen = torch.Generator().manual_seed(0)
        for _ in range(int(self.pretrain_epochs)):
            perm = torch.randperm(len(pool), generator=gen)
            for start in range(0, len(pool), PRETRAIN_BATCH):
                idx = perm[start:start + PRETRAIN_BATCH]
                opt.zero_grad()
                loss = torch.nn.functional.mse_loss(net.aux(net.encode(adj[idx], nodes[idx], glob[idx])), target[idx])
                loss.backward()
                opt.step()
        return net.state_dict()

    def _trainable(self, net: Any) -> Any:
        return [p for name, p in net.named_parameters() if not name.startswith("aux.")]

    def _optimizer(self, torch: Any) -> Any:
        return lambda params: torch.optim.AdamW(params, lr=float(self.lr), weight_decay=float(self.weight_decay))

    def _steps_batch(self, n: int) -> int:
        return max(2, int(self.batch_size), -(-n // int(self.max_steps_per_epoch)))

    @staticmethod
    def suggest_params(trial: Any) -> dict[str, Any]:
        """Optuna search space (used by :func:`~surrogate_eo.surrogates.tuning.tune`)."""
        return {
            "hidden": trial.suggest_categorical("hidden", [16, 32, 64]),
            "layers": trial.suggest_int("layers", 1, 3),
            "lr": trial.suggest_float("lr", 5e-4, 5e-3, log=True),
            "rank_weight": trial.suggest_float("rank_weight", 0.0, 2.0),
        }
