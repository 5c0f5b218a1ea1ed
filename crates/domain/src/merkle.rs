//! Tamper evidence for the log, as Certificate Transparency does it (RFC 9162 §2.1): a
//! Merkle tree over the archived events in log order, its root at any size, inclusion
//! proofs (this event is leaf `i` of the tree of size `n`) and consistency proofs (the tree
//! of size `m` is a prefix of the tree of size `n`), and their verification. Pure: the
//! hashes are computed here, stored and signed elsewhere.
//!
//! A leaf is an event's canonical JSON: the stored event as a JSON value written with its
//! keys sorted and no whitespace (as `serde_json` writes a [`Value`]), so the log's bytes
//! and the archive's JSONB give the same leaf.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// The canonical bytes of a stored event: its JSON with keys sorted, no whitespace.
pub fn canonical(event: &Value) -> Vec<u8> {
    // A `Value` always serialises.
    serde_json::to_vec(event).unwrap_or_default()
}

/// `SHA-256(0x00 || data)`: the hash of a leaf.
pub fn leaf_hash(data: &[u8]) -> Hash {
    Sha256::new().chain_update([0u8]).chain_update(data).finalize().into()
}

/// `SHA-256(0x01 || left || right)`: the hash of an inner node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Sha256::new().chain_update([1u8]).chain_update(left).chain_update(right).finalize().into()
}

/// The largest power of two smaller than `n` (for `n > 1`): where the tree splits.
fn split(n: usize) -> usize {
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// MTH(D[n]): the root of the tree over these leaf hashes; the hash of the empty string
/// for none.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// PATH(m, D[n]): the inclusion proof of leaf `index` in the tree over `leaves`.
pub fn inclusion_proof(index: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 || index >= n {
        return Vec::new();
    }
    let k = split(n);
    let (mut path, sibling) = if index < k {
        (inclusion_proof(index, &leaves[..k]), root(&leaves[k..]))
    } else {
        (inclusion_proof(index - k, &leaves[k..]), root(&leaves[..k]))
    };
    path.push(sibling);
    path
}

/// PROOF(m, D[n]): the consistency proof between the tree of the first `m` leaves and the
/// tree over all of them.
pub fn consistency_proof(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    if m == 0 || m >= leaves.len() {
        return Vec::new();
    }
    subproof(m, leaves, true)
}

fn subproof(m: usize, leaves: &[Hash], whole: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if whole { Vec::new() } else { vec![root(leaves)] };
    }
    let k = split(n);
    let mut proof;
    if m <= k {
        proof = subproof(m, &leaves[..k], whole);
        proof.push(root(&leaves[k..]));
    } else {
        proof = subproof(m - k, &leaves[k..], false);
        proof.push(root(&leaves[..k]));
    }
    proof
}

/// Whether `path` proves that `leaf` is leaf `index` of the tree of `size` with `root`
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, path: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnode, mut snode, mut r) = (index, size - 1, *leaf);
    for p in path {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && r == *root
}

/// Whether `proof` proves that the tree of size `m` with `first` is a prefix of the tree
/// of size `n` with `second` (RFC 9162 §2.1.4.2).
pub fn verify_consistency(m: u64, n: u64, first: &Hash, second: &Hash, proof: &[Hash]) -> bool {
    if m == n {
        return proof.is_empty() && first == second;
    }
    if m == 0 || m > n || proof.is_empty() {
        return false;
    }
    // When m is a power of two, the first tree's root is the proof's implicit first node.
    let mut nodes: Vec<Hash> = proof.to_vec();
    if m.is_power_of_two() {
        nodes.insert(0, *first);
    }
    let (mut fnode, mut snode) = (m - 1, n - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (nodes[0], nodes[0]);
    for c in &nodes[1..] {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    fr == *first && sr == *second && snode == 0
}

/// The right edge of a growing tree: the roots of its perfect subtrees, largest first,
/// enough to add leaves and give the root at every size without the leaves themselves.
#[derive(Debug, Clone, Default)]
pub struct Frontier {
    size: u64,
    peaks: Vec<Hash>,
}

impl Frontier {
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Adds the next leaf's hash.
    pub fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        let mut size = self.size;
        while size & 1 == 1 {
            let left = self.peaks.pop().unwrap_or_default();
            hash = node_hash(&left, &hash);
            size >>= 1;
        }
        self.peaks.push(hash);
        self.size += 1;
    }

    /// The root of the tree so far (equal to [`root`] over the same leaves).
    pub fn root(&self) -> Hash {
        let mut peaks = self.peaks.iter().rev();
        match peaks.next() {
            None => root(&[]),
            Some(last) => peaks.fold(*last, |right, left| node_hash(left, &right)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(format!("event {i}").as_bytes())).collect()
    }

    #[test]
    fn the_empty_tree_and_one_leaf_are_as_rfc_9162_defines_them() {
        assert_eq!(hex(&root(&[])), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(hex(&leaf_hash(b"")), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
        assert_eq!(root(&leaves(1)), leaves(1)[0]);
    }

    fn hex(h: &Hash) -> String {
        h.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn the_frontier_gives_the_root_at_every_size() {
        let all = leaves(70);
        let mut frontier = Frontier::default();
        for n in 0..=all.len() {
            assert_eq!(frontier.root(), root(&all[..n]), "size {n}");
            if n < all.len() {
                frontier.push(all[n]);
            }
        }
    }

    #[test]
    fn every_inclusion_proof_verifies_and_no_wrong_one_does() {
        for n in 1..=33 {
            let all = leaves(n);
            let r = root(&all);
            for i in 0..n {
                let path = inclusion_proof(i, &all);
                assert!(verify_inclusion(i as u64, n as u64, &all[i], &path, &r), "leaf {i} of {n}");
                let other = leaf_hash(b"not in the tree");
                assert!(!verify_inclusion(i as u64, n as u64, &other, &path, &r), "a foreign leaf at {i} of {n}");
                if n > 1 {
                    let j = (i + 1) % n;
                    assert!(!verify_inclusion(j as u64, n as u64, &all[i], &path, &r), "leaf {i} at {j} of {n}");
                }
            }
        }
    }

    #[test]
    fn every_consistency_proof_verifies_and_an_altered_prefix_does_not() {
        for n in 1..=33 {
            let all = leaves(n);
            let second = root(&all);
            for m in 1..=n {
                let first = root(&all[..m]);
                let proof = consistency_proof(m, &all);
                assert!(verify_consistency(m as u64, n as u64, &first, &second, &proof), "{m} of {n}");
                let mut altered = all.clone();
                altered[m - 1] = leaf_hash(b"altered");
                let forged = root(&altered[..m]);
                assert!(!verify_consistency(m as u64, n as u64, &forged, &second, &proof), "altered {m} of {n}");
            }
        }
    }
}
