"""Dense-block detection in the manner of FRAUDAR (Hooi et al., KDD 2016): greedily peel the
user-product graph, always removing the node whose removal costs the least suspiciousness, and
keep the densest subgraph seen. Columns (products) are weighted 1 / log(degree + 5), so that
camouflage (fraudsters also reviewing popular products) does not hide a block. Several blocks
are found by removing each block's edges and peeling again.

Over an edge list with scipy's sparse arrays; the peeling loop is compiled with numba, with an
indexed binary heap (exact decrease-key): O(E log V).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray
from scipy.sparse import csr_matrix


@dataclass(frozen=True)
class Block:
    users: NDArray[np.int64]
    products: NDArray[np.int64]
    density: float  # suspiciousness per node, the objective FRAUDAR maximises

    def covers(self, users: NDArray[np.int64], products: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Which edges (reviews) lie inside the block: by one of its users on one of its
        products."""
        return np.isin(users, self.users) & np.isin(products, self.products)


@njit(cache=True)
def _sift_up(heap: Any, pos: Any, key: Any, i: int) -> None:
    node = heap[i]
    while i > 0:
        parent = (i - 1) // 2
        if key[heap[parent]] <= key[node]:
            break
        heap[i] = heap[parent]
        pos[heap[i]] = i
        i = parent
    heap[i] = node
    pos[node] = i


@njit(cache=True)
def _sift_down(heap: Any, pos: Any, key: Any, i: int, size: int) -> None:
    node = heap[i]
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and key[heap[child + 1]] < key[heap[child]]:
            child += 1
        if key[heap[child]] >= key[node]:
            break
        heap[i] = heap[child]
        pos[heap[i]] = i
        i = child
    heap[i] = node
    pos[node] = i


@njit(cache=True)
def _peel_core(
    u_ptr: Any,
    u_idx: Any,
    u_w: Any,
    p_ptr: Any,
    p_idx: Any,
    p_w: Any,
    score: Any,
    alive: Any,
    n_users: int,
    total: float,
) -> tuple[Any, int, float]:
    """Remove the cheapest node until none is left, with an indexed heap (exact decrease-key);
    returns the removal order, how many removals give the densest graph, and its density."""
    n = len(score)
    heap = np.empty(n, dtype=np.int64)
    pos = np.full(n, -1, dtype=np.int64)
    size = 0
    for node in range(n):
        if alive[node]:
            heap[size] = node
            pos[node] = size
            size += 1
    for i in range(size // 2 - 1, -1, -1):
        _sift_down(heap, pos, score, i, size)
    alive_count = size
    best = total / max(alive_count, 1)
    best_step = 0
    order = np.empty(alive_count, dtype=np.int64)
    step = 0
    while size > 0:
        node = heap[0]
        size -= 1
        if size > 0:
            heap[0] = heap[size]
            pos[heap[0]] = 0
            _sift_down(heap, pos, score, 0, size)
        pos[node] = -1
        alive[node] = False
        order[step] = node
        step += 1
        total -= score[node]
        alive_count -= 1
        if node < n_users:
            start, end, idx, w, shift = u_ptr[node], u_ptr[node + 1], u_idx, u_w, n_users
        else:
            col = node - n_users
            start, end, idx, w, shift = p_ptr[col], p_ptr[col + 1], p_idx, p_w, 0
        for k in range(start, end):
            other = idx[k] + shift
            if alive[other]:
                score[other] -= w[k]
                _sift_up(heap, pos, score, pos[other])
        if alive_count > 0 and total / alive_count > best:
            best = total / alive_count
            best_step = step
    return order, best_step, best


def _peel(
    users: NDArray[np.int64],
    products: NDArray[np.int64],
    weights: NDArray[np.float64],
    n_users: int,
    n_products: int,
) -> Block:
    n = n_users + n_products
    by_user = csr_matrix((weights, (users, products)), shape=(n_users, n_products))
    by_product = by_user.tocsc()
    score = np.concatenate(
        [np.asarray(by_user.sum(axis=1)).ravel(), np.asarray(by_product.sum(axis=0)).ravel()]
    ).astype(np.float64)
    alive = np.zeros(n, dtype=np.bool_)
    alive[np.unique(users)] = True
    alive[n_users + np.unique(products)] = True  # only nodes with edges take part
    members = alive.copy()
    order, best_step, best = _peel_core(
        by_user.indptr.astype(np.int64),
        by_user.indices.astype(np.int64),
        by_user.data,
        by_product.indptr.astype(np.int64),
        by_product.indices.astype(np.int64),
        by_product.data,
        score,
        alive,
        n_users,
        float(weights.sum()),
    )
    members[order[:best_step]] = False
    idx = np.flatnonzero(members)
    return Block(idx[idx < n_users], idx[idx >= n_users] - n_users, float(best))


def column_weights(products: NDArray[np.int64], n_products: int) -> NDArray[np.float64]:
    degree = np.bincount(products, minlength=n_products)
    return np.asarray(1.0 / np.log(degree[products] + 5.0), dtype=np.float64)


def detect(
    users: NDArray[np.int64],
    products: NDArray[np.int64],
    *,
    blocks: int = 1,
    n_users: int | None = None,
    n_products: int | None = None,
) -> list[Block]:
    """The `blocks` densest blocks of a bipartite edge list (user i reviewed product j)."""
    nu = int(n_users if n_users is not None else users.max() + 1)
    npr = int(n_products if n_products is not None else products.max() + 1)
    weights = column_weights(products, npr)
    keep = np.ones(len(users), dtype=bool)
    found = []
    for _ in range(blocks):
        if not keep.any():
            break
        block = _peel(users[keep], products[keep], weights[keep], nu, npr)
        found.append(block)
        keep &= ~block.covers(users, products)
    return found
