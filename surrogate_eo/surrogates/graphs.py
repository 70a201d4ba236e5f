"""The op-on-node DAG of each arch: the input of the graph surrogates (GIN, flow GNN)."""
from __future__ import annotations

import numpy as np

from ..spaces import SearchSpace, get_space
from ..spaces.base import BatchLike
from ..spaces.cell import CellEncoding


def graph_encoding(space: str | SearchSpace, archs: BatchLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Op-on-node DAG of each arch, for graph neural networks.

    Nodes are ``[input, one per cell edge, output]``: an edge node ``j→i``
    receives from the input (``j == 0``) or from every edge node ending at
    ``j``; the output receives from the edge nodes ending at the last node.
    ``none`` edges keep their node but lose all connections.

    Returns
    -------
    adj : ndarray, shape (n, V, V), float32
        ``adj[b, v, u] = 1`` when node ``u`` feeds node ``v``.
    nodes : ndarray, shape (n, V, 2 + n_ops), float32
        One-hot node type: input, output, or the edge's op.
    globals_ : ndarray, shape (n, G), float32
        One-hot of the macro positions (``G = 0`` for ``nb201``).
    """
    space = get_space(space)
    batch = space.validate(archs)
    cell: CellEncoding = space.cell  # type: ignore[attr-defined]
    n, ne, n_ops = len(batch), cell.n_edges, len(cell.ops)
    v = ne + 2
    cells = batch[:, :ne]
    nz = (cells != cell.ops.index(cell.zero_op)).astype(np.float32)
    adj = np.zeros((n, v, v), dtype=np.float32)
    for k, (j, _i) in enumerate(cell.edges):
        if j == 0:
            adj[:, 1 + k, 0] = nz[:, k]
        else:
            for m, (_jj, ii) in enumerate(cell.edges):
                if ii == j:
                    adj[:, 1 + k, 1 + m] = nz[:, k] * nz[:, m]
    for m, (_jj, ii) in enumerate(cell.edges):
        if ii == cell.n_nodes - 1:
            adj[:, v - 1, 1 + m] = nz[:, m]
    nodes = np.zeros((n, v, 2 + n_ops), dtype=np.float32)
    nodes[:, 0, 0] = 1.0
    nodes[:, v - 1, 1] = 1.0
    rows = np.repeat(np.arange(n), ne)
    cols = np.tile(np.arange(1, ne + 1), n)
    nodes[rows, cols, 2 + cells.reshape(-1)] = 1.0
    dims = np.asarray(space.dims[ne:])
    if len(dims):
        off = np.concatenate([[0], np.cumsum(dims)[:-1]])
        glob = np.zeros((n, int(dims.sum())), dtype=np.float32)
        glob[np.repeat(np.arange(n), len(dims)), (batch[:, ne:] + off).reshape(-1)] = 1.0
    else:
        glob = np.zeros((n, 0), dtype=np.float32)
    return adj, nodes, glob
