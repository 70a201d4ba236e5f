"""Flow GNN surrogate in plain torch: data-flow message passing plus label-free pretraining.

The architecture is the op-on-node DAG of
:func:`~surrogate_eo.surrogates.features.graph_encoding` (input, one node per
cell edge, output), whose node order is topological. Each layer makes two
asynchronous sweeps that follow the cell's data flow, as FlowerFormer's flow
encoder does (Hwang et al., CVPR 2024): a *forward* sweep visits the nodes in
topological order and updates each with a GRU cell from the sum of its
predecessors' *already updated* states, so one sweep carries information
from the input to the output; a *backward* sweep does the same in reverse
order from the successors. The readout concatenates the output node's state
and the mean node state (plus the macro one-hot) and an MLP gives the target.

**Pretraining** (label-free): before the first fit in a process, the encoder
learns to predict each arch's structural features — live-edge op counts,
longest path, and the computation-path encoding (``derived`` + ``cpath``
blocks of :class:`~surrogate_eo.surrogates.features.Featurizer`, standardised)
— on every arch of a finite space (all 15,625 of ``nb201``) or a
``pretrain_sample`` of a larger one. The pretrained encoder (seeded 0: a
property of the space, not of the model's seed) is cached per (space,
hidden, layers, pretrain settings) for the process; each fit
starts from it and fine-tunes everything on the labelled archs with MSE plus
a pairwise ranking loss (``rank_weight``). Inputs are the isomorphism-class
representatives, so isomorphic archs get one prediction.

torch is imported only when a GNN is built, fitted, predicted or loaded.
Weights are saved with safetensors.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._imports import require, require_torch
from ..spaces import get_space
from ..spaces.base import BatchLike
from .base import Surrogate, check_training_data
from .features import TABLE_LIMIT, Featurizer, canonical_representatives, graph_encoding

#: Pretrained encoders of this process: key -> state_dict (see :func:`_pretrained`).
_PRETRAINED: dict[tuple[Any, ...], dict[str, Any]] = {}


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


def _structure_targets(space: Any, batch: np.ndarray) -> np.ndarray:
    x = Featurizer(space=space.name, blocks=("derived", "cpath")).compute(batch).astype(np.float64)
    x = x[:, x.std(axis=0) > 0]
    return ((x - x.mean(axis=0)) / x.std(axis=0)).astype(np.float32)


class GNNSurrogate(Surrogate):
    """Flow GNN (forward + backward topological sweeps) with structural pretraining.

    Parameters
    ----------
    space : str, default="eo"
    hidden : int, default=32
        Node-state width.
    layers : int, default=2
        Forward+backward sweep pairs.
    epochs : int, default=200
        Fine-tuning passes over the labelled archs (batches grow beyond ``batch_size``
        so that an epoch is at most 4 steps: fitting cost is flat in the training-set size).
    lr : float, default=2e-3
        Adam learning rate (cosine-annealed).
    batch_size : int, default=64
    weight_decay : float, default=1e-4
    rank_weight : float, default=0.5
        Weight of the pairwise logistic ranking loss beside MSE.
    pretrain_epochs : int, default=8
        Label-free pretraining passes over the space (0: no pretraining).
    pretrain_sample : int, default=20000
        Archs to pretrain on when the space is too large to enumerate.
    seed : int, default=0
    n_threads : int, default=1

    Attributes
    ----------
    net_ : torch.nn.Module
    y_mean_, y_std_ : float
    featurizer_ : Featurizer
        Records the space (the GNN reads graphs of canonical representatives).
    n_train_ : int
    """

    family: ClassVar[str] = "gnn"
    uses_features: ClassVar[bool] = False

    def __init__(self, *, space: str = "eo", hidden: int = 32, layers: int = 2, epochs: int = 200,
                 lr: float = 2e-3, batch_size: int = 64, weight_decay: float = 1e-4, rank_weight: float = 0.5,
                 pretrain_epochs: int = 8, pretrain_sample: int = 20000, seed: int = 0, n_threads: int = 1) -> None:
        self.space = space
        self.hidden = hidden
        self.layers = layers
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.rank_weight = rank_weight
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_sample = pretrain_sample
        self.seed = seed
        self.n_threads = n_threads

    def _make_featurizer(self) -> Featurizer:
        return Featurizer(space=self.space, blocks=("onehot",), canonical=True)

    def _tensors(self, torch: Any, batch: np.ndarray) -> tuple[Any, Any, Any]:
        adj, nodes, glob = graph_encoding(self.space, canonical_representatives(self.space, batch))
        return torch.from_numpy(adj), torch.from_numpy(nodes), torch.from_numpy(glob)

    def _net(self, torch: Any, n_aux: int) -> Any:
        _, nodes, glob = graph_encoding(self.space, get_space(self.space).sample(1, seed=0))
        return _build_net(torch, nodes.shape[2], glob.shape[1], int(self.hidden), int(self.layers), n_aux)

    def _pretrained(self, torch: Any) -> tuple[dict[str, Any] | None, int]:
        """Encoder weights after label-free pretraining (cached per process), and the aux width."""
        space = get_space(self.space)
        if space.size <= TABLE_LIMIT:
            pool = space.from_index(np.unique(canonical_representatives(space, space.from_index(
                np.arange(space.size))) @ space._radix))
        else:
            pool = space.sample(int(self.pretrain_sample), seed=0)
        aux = _structure_targets(space, pool)
        if int(self.pretrain_epochs) <= 0:
            return None, aux.shape[1]
        key = (space.name, int(self.hidden), int(self.layers), int(self.pretrain_epochs), int(self.pretrain_sample))
        if key not in _PRETRAINED:  # a property of the space: seeded 0, shared by every fit of the process
            torch.manual_seed(0)
            net = self._net(torch, aux.shape[1])
            adj, nodes, glob = self._tensors(torch, pool)
            target = torch.from_numpy(aux)
            opt = torch.optim.Adam(net.parameters(), lr=3e-3)
            gen = torch.Generator().manual_seed(0)
            for _ in range(int(self.pretrain_epochs)):
                perm = torch.randperm(len(pool), generator=gen)
                for start in range(0, len(pool), 256):
                    idx = perm[start:start + 256]
                    opt.zero_grad()
                    loss = torch.nn.functional.mse_loss(net.aux(net.encode(adj[idx], nodes[idx], glob[idx])),
                                                        target[idx])
                    loss.backward()
                    opt.step()
            _PRETRAINED[key] = {k: v.detach().clone() for k, v in net.state_dict().items()}
        return _PRETRAINED[key], aux.shape[1]

    def fit(self, archs: BatchLike, y: Any) -> GNNSurrogate:
        """Pretrain (once per process), then fine-tune on ``(archs, y)``. Returns ``self``."""
        self.validate_params()
        torch = require_torch("the GNN surrogate")
        batch, yy = check_training_data(get_space(self.space), archs, y)
        old_threads = torch.get_num_threads()
        torch.set_num_threads(int(self.n_threads))
        try:
            state, n_aux = self._pretrained(torch)
            torch.manual_seed(int(self.seed))
            net = self._net(torch, n_aux)
            if state is not None:
                net.load_state_dict(state)
            adj, nodes, glob = self._tensors(torch, batch)
            mean, std = float(yy.mean()), float(yy.std()) or 1.0
            target = torch.from_numpy(((yy - mean) / std).astype(np.float32))
            params = [p for name, p in net.named_parameters() if not name.startswith("aux.")]
            opt = torch.optim.AdamW(params, lr=float(self.lr), weight_decay=float(self.weight_decay))
            n = len(yy)
            bs = max(2, int(self.batch_size), -(-n // 4))  # at most 4 steps per epoch: cost flat in n
            steps = int(self.epochs) * ((n + bs - 1) // bs)
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, steps))
            gen = torch.Generator().manual_seed(int(self.seed))
            net.train()
            for _ in range(int(self.epochs)):
                perm = torch.randperm(n, generator=gen)
                for start in range(0, n, bs):
                    idx = perm[start:start + bs]
                    opt.zero_grad()
                    pred = net(adj[idx], nodes[idx], glob[idx])
                    loss = torch.nn.functional.mse_loss(pred, target[idx])
                    if float(self.rank_weight) > 0 and len(idx) > 1:
                        dp = pred[:, None] - pred[None, :]
                        sign = torch.sign(target[idx][:, None] - target[idx][None, :])
                        pair = torch.nn.functional.softplus(-sign * dp)[sign != 0]
                        loss = loss + float(self.rank_weight) * pair.mean()
                    loss.backward()
                    opt.step()
                    sched.step()
            net.eval()
        finally:
            torch.set_num_threads(old_threads)
        self.net_ = net
        self.y_mean_, self.y_std_ = mean, std
        self.n_aux_ = n_aux
        self.featurizer_ = self._make_featurizer()
        self.n_train_ = len(yy)
        return self

    def predict(self, archs: BatchLike) -> np.ndarray:
        """Predicted targets, shape ``(n,)``."""
        self._check_fitted()
        torch = require_torch("the GNN surrogate")
        batch = get_space(self.space).validate(archs)
        old_threads = torch.get_num_threads()
        torch.set_num_threads(int(self.n_threads))
        try:
            out = []
            with torch.no_grad():
                for start in range(0, len(batch), 4096):
                    adj, nodes, glob = self._tensors(torch, batch[start:start + 4096])
                    out.append(self.net_(adj, nodes, glob).numpy().astype(np.float64))
        finally:
            torch.set_num_threads(old_threads)
        pred = np.concatenate(out) if out else np.zeros(0)
        return pred * self.y_std_ + self.y_mean_

    # artifacts ---------------------------------------------------------------
    def _save_state(self) -> tuple[dict[str, Any], dict[str, bytes]]:
        st = require("safetensors.torch", "saving a GNN surrogate")
        tensors = {k: v.detach().contiguous() for k, v in self.net_.state_dict().items()}
        return ({"y_mean": self.y_mean_, "y_std": self.y_std_, "n_aux": int(self.n_aux_)},
                {"weights.safetensors": st.save(tensors)})

    def _load_state(self, state: dict[str, Any], files: dict[str, bytes]) -> None:
        torch = require_torch("loading a GNN surrogate")
        st = require("safetensors.torch", "loading a GNN surrogate")
        from ..errors import ArtifactError

        tensors = st.load(files["weights.safetensors"])
        net = self._net(torch, int(state["n_aux"]))
        try:
            net.load_state_dict(tensors, strict=True)
        except RuntimeError as exc:
            raise ArtifactError(f"GNN weights do not fit a GNN with hidden={self.hidden}, "
                                f"layers={self.layers}: {' '.join(str(exc).split())[:300]}") from None
        net.eval()
        self.net_ = net
        self.n_aux_ = int(state["n_aux"])
        self.y_mean_, self.y_std_ = float(state["y_mean"]), float(state["y_std"])

    @staticmethod
    def suggest_params(trial: Any) -> dict[str, Any]:
        """Optuna search space (used by :func:`~surrogate_eo.surrogates.tuning.tune`)."""
        return {
            "hidden": trial.suggest_categorical("hidden", [16, 32, 64]),
            "layers": trial.suggest_int("layers", 1, 3),
            "lr": trial.suggest_float("lr", 5e-4, 5e-3, log=True),
            "rank_weight": trial.suggest_float("rank_weight", 0.0, 2.0),
        }
