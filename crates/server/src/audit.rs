//! Tamper evidence (issue 12), as Certificate Transparency does it: a supervised task
//! hashes every event of the log into a Merkle tree and signs a tree head at intervals
//! with the deployment's audit key; `verify` checks the archive against the signed heads
//! and names the first event altered, missing or out of place; `prove` and `consistency`
//! give the proofs a third party checks against a published head. The hashing is
//! [`ghor_domain::merkle`]'s.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use ghor_domain::merkle::{self, Frontier, Hash};
use ghor_domain::Scope;
use ghor_store::{AuditStore, EventLog, ReadModel, StoreError, StoreResult, TreeHead};
use serde_json::{json, Value};

use crate::shutdown::Shutdown;

/// Events read from the log or the archive at a time.
const BATCH: usize = 5_000;

/// The deployment's audit key: an ed25519 signing key. Never printed.
#[derive(Clone)]
pub struct AuditKey(SigningKey);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditKey(public {})", hex::encode(self.public()))
    }
}

impl AuditKey {
    /// A new random key.
    pub fn generate() -> AuditKey {
        let mut seed = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut seed);
        AuditKey(SigningKey::from_bytes(&seed))
    }

    /// The key from its secret as `ghor audit keygen` prints it (base64 of 32 bytes).
    pub fn from_secret(secret: &str) -> Result<AuditKey, String> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(secret.trim())
            .map_err(|e| format!("the audit key is not base64: {e}"))?;
        let seed: [u8; 32] =
            bytes.try_into().map_err(|b: Vec<u8>| format!("the audit key has {} bytes, not 32", b.len()))?;
        Ok(AuditKey(SigningKey::from_bytes(&seed)))
    }

    pub fn secret(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(self.0.to_bytes())
    }

    pub fn public(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }

    /// Signs the head of the tree of `size` with `root`, now.
    pub fn sign(&self, scope: Scope, size: u64, root: Hash, time: DateTime<Utc>) -> TreeHead {
        let signature = self.0.sign(&signed_bytes(scope, size, &root, time)).to_bytes().to_vec();
        TreeHead { size, root, time, public_key: self.public(), signature }
    }
}

/// What a tree head's signature covers, one field per line:
/// `ghor-tree-head-v1`, the scope, the size, the root in hex, the time (RFC 3339, UTC,
/// microseconds).
pub fn signed_bytes(scope: Scope, size: u64, root: &Hash, time: DateTime<Utc>) -> Vec<u8> {
    let time = time.to_rfc3339_opts(SecondsFormat::Micros, true);
    format!("ghor-tree-head-v1\n{scope}\n{size}\n{}\n{time}", hex::encode(root)).into_bytes()
}

/// Whether `head`'s signature is good, by `trusted` (or by the key the head names).
pub fn signature_holds(scope: Scope, head: &TreeHead, trusted: Option<&[u8; 32]>) -> bool {
    let key = trusted.unwrap_or(&head.public_key);
    let Ok(key) = VerifyingKey::from_bytes(key) else { return false };
    let Ok(signature) = Signature::from_slice(&head.signature) else { return false };
    key.verify(&signed_bytes(scope, head.size, &head.root, head.time), &signature).is_ok()
}

/// The leaf hash of a stored event.
fn leaf(event: &Value) -> Hash {
    merkle::leaf_hash(&merkle::canonical(event))
}

/// The tree over the recorded leaf hashes; fails when they are not dense from 1.
fn frontier_of(recorded: &[(u64, Hash)]) -> StoreResult<Frontier> {
    let mut frontier = Frontier::default();
    for (seq, hash) in recorded {
        if *seq != frontier.size() + 1 {
            return Err(StoreError::Internal(format!(
                "the recorded leaf hashes skip from {} to {seq}",
                frontier.size()
            )));
        }
        frontier.push(*hash);
    }
    Ok(frontier)
}

/// Signs a tree head over the whole log every `every`, when it has grown: reads what is
/// new, records each event's leaf hash and the signed head together. Runs until `stop`.
pub async fn sign_heads(
    scope: Scope,
    log: Arc<dyn EventLog>,
    store: Arc<dyn AuditStore>,
    key: AuditKey,
    every: Duration,
    mut stop: Shutdown,
) -> Result<(), StoreError> {
    let mut frontier = frontier_of(&store.leaf_hashes(scope).await?)?;
    let mut signed = store.tree_heads(scope).await?.last().map_or(0, |h| h.size);
    loop {
        let mut leaves = Vec::new();
        loop {
            let entries = log.read(frontier.size(), BATCH).await?;
            for entry in &entries {
                if entry.seq != frontier.size() + 1 {
                    return Err(StoreError::Internal(format!(
                        "the log skips from {} to {}",
                        frontier.size(),
                        entry.seq
                    )));
                }
                let hash = leaf(&entry.json());
                frontier.push(hash);
                leaves.push((entry.seq, hash));
            }
            if entries.len() < BATCH {
                break;
            }
        }
        if frontier.size() > signed {
            let head = key.sign(scope, frontier.size(), frontier.root(), Utc::now());
            store.record_tree_head(scope, &leaves, &head).await?;
            tracing::debug!(%scope, size = head.size, root = %hex::encode(head.root), "signed a tree head");
            signed = head.size;
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.recv() => return Ok(()),
        }
    }
}

/// What `verify` found wrong, naming the first event where it is.
#[derive(Debug, PartialEq)]
pub enum Finding {
    /// No signed tree head to check against.
    Unsigned,
    /// A head whose signature does not hold.
    BadSignature { size: u64 },
    /// The recorded leaf hashes do not give a signed head's root: they were changed.
    LeavesAltered { size: u64 },
    /// The archive's event at `seq` is not the event the signed heads cover.
    Altered { seq: u64, event: Value },
    /// The archive holds no event at `seq`, which the signed heads cover.
    Missing { seq: u64 },
    /// The archive's event at `seq` is the one the heads put at `belongs_at`.
    Moved { seq: u64, belongs_at: u64, event: Value },
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = |e: &Value| {
            format!(
                "{} {} ({})",
                e["source"].as_str().unwrap_or("?"),
                e["id"].as_str().unwrap_or("?"),
                e["type"].as_str().unwrap_or("?")
            )
        };
        match self {
            Finding::Unsigned => {
                write!(f, "no signed tree head yet: start ghor with GHOR_AUDIT_KEY and let it sign one")
            }
            Finding::BadSignature { size } => write!(f, "the tree head at size {size} is not signed by the audit key"),
            Finding::LeavesAltered { size } => {
                write!(f, "the recorded leaf hashes do not give the signed root at size {size}: they were altered")
            }
            Finding::Altered { seq, event } => write!(
                f,
                "event {seq} was altered: the archive holds {} with other content than was signed",
                name(event)
            ),
            Finding::Missing { seq } => write!(f, "event {seq} is missing from the archive"),
            Finding::Moved { seq, belongs_at, event } => write!(
                f,
                "event {seq} is out of place: the archive holds there {}, which was signed at {belongs_at}",
                name(event)
            ),
        }
    }
}

/// What `verify` checked.
#[derive(Debug)]
pub struct Verified {
    /// Events in the archive, all checked against the heads that cover them.
    pub events: u64,
    pub heads: usize,
    pub newest: TreeHead,
}

/// Checks the archive of `scope` against its signed tree heads: every signature (by one of
/// the `trusted` keys, several after the key was rotated; none given: by the key the newest
/// head names), the recorded leaf hashes against every head's root, and every archived
/// event against its recorded leaf hash.
pub async fn verify(
    store: &dyn AuditStore,
    read_model: &dyn ReadModel,
    scope: Scope,
    trusted: &[[u8; 32]],
) -> StoreResult<Result<Verified, Finding>> {
    let heads = store.tree_heads(scope).await?;
    let Some(newest) = heads.last().cloned() else { return Ok(Err(Finding::Unsigned)) };
    let keys = if trusted.is_empty() { &[newest.public_key][..] } else { trusted };
    if let Some(bad) = heads.iter().find(|h| !keys.iter().any(|key| signature_holds(scope, h, Some(key)))) {
        return Ok(Err(Finding::BadSignature { size: bad.size }));
    }
    // The recorded leaf hashes, authenticated by every head's root.
    let recorded = store.leaf_hashes(scope).await?;
    let mut frontier = Frontier::default();
    let mut heads_left = heads.iter().peekable();
    for (i, (seq, hash)) in recorded.iter().enumerate() {
        if *seq != i as u64 + 1 {
            let size = heads.iter().find(|h| h.size > i as u64).map_or(newest.size, |h| h.size);
            return Ok(Err(Finding::LeavesAltered { size }));
        }
        frontier.push(*hash);
        while let Some(head) = heads_left.next_if(|h| h.size == frontier.size()) {
            if head.root != frontier.root() {
                return Ok(Err(Finding::LeavesAltered { size: head.size }));
            }
        }
    }
    if let Some(head) = heads_left.next() {
        return Ok(Err(Finding::LeavesAltered { size: head.size }));
    }
    // The archive, event by event, against them.
    let at: HashMap<Hash, u64> = recorded.iter().map(|(seq, hash)| (*hash, *seq)).collect();
    let archived_upto = read_model.checkpoint(scope).await?.min(newest.size);
    let mut expected = 1;
    while expected <= archived_upto {
        let events = store.archived_events(scope, expected - 1, BATCH).await?;
        if events.is_empty() {
            return Ok(Err(Finding::Missing { seq: expected }));
        }
        for (seq, event) in events.into_iter().take_while(|(seq, _)| *seq <= archived_upto) {
            if seq != expected {
                return Ok(Err(Finding::Missing { seq: expected }));
            }
            let hash = leaf(&event);
            if hash != recorded[(seq - 1) as usize].1 {
                return Ok(Err(match at.get(&hash) {
                    Some(&belongs_at) => Finding::Moved { seq, belongs_at, event },
                    None => Finding::Altered { seq, event },
                }));
            }
            expected += 1;
        }
    }
    Ok(Ok(Verified { events: archived_upto, heads: heads.len(), newest }))
}

/// A tree head as JSON, hashes and keys in hex.
pub fn head_json(scope: Scope, head: &TreeHead) -> Value {
    json!({
        "scope": scope,
        "size": head.size,
        "root": hex::encode(head.root),
        "time": head.time.to_rfc3339_opts(SecondsFormat::Micros, true),
        "public_key": hex::encode(head.public_key),
        "signature": hex::encode(&head.signature),
    })
}

fn hexes(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(hex::encode).collect()
}

/// The inclusion proof of the archived event at `seq` in the newest signed tree that holds
/// it: the event's canonical JSON (the leaf), its audit path, and the head.
pub async fn prove(store: &dyn AuditStore, scope: Scope, seq: u64) -> StoreResult<Option<Value>> {
    let heads = store.tree_heads(scope).await?;
    let Some(head) = heads.iter().rev().find(|h| h.size >= seq) else { return Ok(None) };
    let Some((_, event)) = store.archived_events(scope, seq - 1, 1).await?.into_iter().find(|(s, _)| *s == seq) else {
        return Ok(None);
    };
    let leaves: Vec<Hash> =
        store.leaf_hashes(scope).await?.into_iter().map(|(_, h)| h).take(head.size as usize).collect();
    let leaf = String::from_utf8(merkle::canonical(&event)).unwrap_or_default();
    Ok(Some(json!({
        "leaf_index": seq - 1,
        "tree_size": head.size,
        "leaf": leaf,
        "leaf_hash": hex::encode(merkle::leaf_hash(leaf.as_bytes())),
        "audit_path": hexes(&merkle::inclusion_proof((seq - 1) as usize, &leaves)),
        "tree_head": head_json(scope, head),
    })))
}

/// The consistency proof between the signed heads of sizes `first` and `second`.
pub async fn consistency(store: &dyn AuditStore, scope: Scope, first: u64, second: u64) -> StoreResult<Option<Value>> {
    let heads = store.tree_heads(scope).await?;
    let (Some(a), Some(b)) = (heads.iter().find(|h| h.size == first), heads.iter().find(|h| h.size == second)) else {
        return Ok(None);
    };
    let leaves: Vec<Hash> = store.leaf_hashes(scope).await?.into_iter().map(|(_, h)| h).take(second as usize).collect();
    Ok(Some(json!({
        "first": head_json(scope, a),
        "second": head_json(scope, b),
        "proof": hexes(&merkle::consistency_proof(first as usize, &leaves)),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_head_holds_and_any_change_breaks_it() {
        let key = AuditKey::generate();
        let time = Utc::now();
        let head = key.sign(Scope::Live, 12, merkle::leaf_hash(b"x"), time);
        assert!(signature_holds(Scope::Live, &head, Some(&key.public())));
        assert!(!signature_holds(Scope::Oefening, &head, Some(&key.public())), "another scope");
        assert!(!signature_holds(Scope::Live, &TreeHead { size: 13, ..head.clone() }, None), "another size");
        let other = AuditKey::generate();
        assert!(!signature_holds(Scope::Live, &head, Some(&other.public())), "another key");
        assert_eq!(AuditKey::from_secret(&key.secret()).map(|k| k.public()), Ok(key.public()));
        assert!(!format!("{key:?}").contains(&key.secret()), "the secret is never printed");
    }
}
