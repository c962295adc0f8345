"""Multi-leaf inclusion proofs (domain.integrity): the signed root recomputed from some
leaves and the complete subtrees beside their paths equals the tree's root exactly when
those leaves are the ones in the tree."""

from __future__ import annotations

import hashlib
import random

import pytest

from domain.integrity import MerkleFrontier, proof_subtrees, root_with, subtree_hash


def _hashes(size: int) -> list[str]:
    return [hashlib.sha256(str(i).encode()).hexdigest() for i in range(size)]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 255, 256, 257, 1000])
def test_a_proof_reaches_the_root_only_with_the_sealed_leaves(size: int) -> None:
    hashes, tree, formed = _hashes(size), MerkleFrontier(), []
    for digest in hashes:
        tree.append(digest, formed)
    for level, index, node in formed:  # every subtree reported is the one of its leaves
        assert subtree_hash(hashes[index << level : (index + 1) << level]).hex() == node
    rng = random.Random(size)
    for _ in range(10):
        targets = sorted(rng.sample(range(size), rng.randint(1, min(size, 20))))
        ranges = proof_subtrees(size, targets)
        assert not any(lo <= t < hi for lo, hi in ranges for t in targets)
        given = {r: subtree_hash(hashes[r[0] : r[1]]) for r in ranges}
        assert root_with(size, {t: hashes[t] for t in targets}, given) == tree.root()
        edited = {t: hashes[t] for t in targets}
        edited[targets[-1]] = hashlib.sha256(b"edited").hexdigest()
        assert root_with(size, edited, given) != tree.root()
        moved = {t: hashes[t] for t in targets}
        if targets[0] + 1 < size and targets[0] + 1 not in moved:  # right hash, wrong place
            moved[targets[0] + 1] = moved.pop(targets[0])
            with pytest.raises(KeyError):  # the proof's shape no longer fits
                root_with(size, moved, given)
