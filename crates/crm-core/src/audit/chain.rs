//! The hash chain: each entry's hash is SHA-256 over the previous entry's hash and the
//! entry's canonical JSON (keys sorted, no spaces), its place in the chain included. The
//! tenant's chain head records the last entry and the anchor (the first kept entry's place
//! and previous hash), so the chain still verifies after retention removed its beginning.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{AuditEntry, AuditRecord};
use crate::ids::{EventId, TenantId};

/// The previous hash of a chain's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A tenant's chain: its last entry and where the kept entries start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    /// The tenant.
    pub tenant: TenantId,
    /// The last entry's place (0 before the first).
    pub seq: u64,
    /// The last entry's hash ([`GENESIS`] before the first).
    pub hash: String,
    /// The first kept entry's place.
    pub anchor_seq: u64,
    /// The first kept entry's previous hash.
    pub anchor_hash: String,
}

impl ChainHead {
    /// The head of a chain with no entries.
    pub fn empty(tenant: TenantId) -> Self {
        Self { tenant, seq: 0, hash: GENESIS.to_owned(), anchor_seq: 1, anchor_hash: GENESIS.to_owned() }
    }

    /// The head once every entry up to and including `seq` is removed: the anchor moves to
    /// the next entry, whose previous hash is `prev_hash` (its own field, verified when the
    /// anchor was set). Removing every entry leaves the anchor right after the head.
    #[must_use]
    pub fn pruned_to(&self, first_kept: Option<(u64, &str)>) -> Self {
        let (anchor_seq, anchor_hash) = match first_kept {
            Some((seq, prev)) => (seq, prev.to_owned()),
            None => (self.seq + 1, self.hash.clone()),
        };
        Self { anchor_seq, anchor_hash, ..self.clone() }
    }
}

/// The hash of `entry` at place `seq` after an entry whose hash is `prev_hash` (hex).
pub fn entry_hash(prev_hash: &str, seq: u64, entry: &AuditEntry) -> String {
    let mut doc = serde_json::to_value(entry).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut doc {
        map.insert("seq".to_owned(), Value::from(seq));
    }
    let mut canonical = String::new();
    write_canonical(&doc, &mut canonical);
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(canonical.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// JSON with object keys sorted and no white space (whatever map order serde_json keeps).
fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(k.as_str()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Appends `pending` (in order) to the chain whose head is `head`: the records to store and
/// the new head.
pub fn chain(head: &ChainHead, pending: Vec<AuditEntry>) -> (Vec<AuditRecord>, ChainHead) {
    let mut seq = head.seq;
    let mut prev = head.hash.clone();
    let records: Vec<AuditRecord> = pending
        .into_iter()
        .map(|entry| {
            seq += 1;
            let hash = entry_hash(&prev, seq, &entry);
            AuditRecord { seq, entry, prev_hash: std::mem::replace(&mut prev, hash.clone()), hash }
        })
        .collect();
    (records, ChainHead { seq, hash: prev, ..head.clone() })
}

/// Where and why a chain does not verify.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainBreak {
    /// The place of the first entry that does not verify (or that is missing).
    pub seq: u64,
    /// That entry's id, when it is there.
    pub id: Option<EventId>,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.id {
            Some(id) => write!(f, "entry {} (id {id}): {}", self.seq, self.reason),
            None => write!(f, "entry {}: {}", self.seq, self.reason),
        }
    }
}

/// Checks a tenant's entries in order, from the anchor of its head.
#[derive(Clone, Debug)]
pub struct ChainVerifier {
    next_seq: u64,
    prev: String,
    checked: u64,
}

impl ChainVerifier {
    /// A verifier starting at the head's anchor.
    pub fn new(head: &ChainHead) -> Self {
        Self { next_seq: head.anchor_seq, prev: head.anchor_hash.clone(), checked: 0 }
    }

    /// Entries verified so far.
    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// Checks the next entry.
    ///
    /// # Errors
    /// The [`ChainBreak`] naming this entry (or the missing one before it).
    pub fn push(&mut self, r: &AuditRecord) -> Result<(), ChainBreak> {
        let broken = |seq, id, reason: &str| Err(ChainBreak { seq, id, reason: reason.to_owned() });
        if r.seq != self.next_seq {
            let why = format!("missing: the next entry found is {}", r.seq);
            return broken(self.next_seq, None, &why);
        }
        if r.prev_hash != self.prev {
            return broken(r.seq, Some(r.entry.id), "its previous hash is not the hash of the entry before it");
        }
        if entry_hash(&r.prev_hash, r.seq, &r.entry) != r.hash {
            return broken(
                r.seq,
                Some(r.entry.id),
                "its content does not match its hash (changed after it was written)",
            );
        }
        self.prev.clone_from(&r.hash);
        self.next_seq += 1;
        self.checked += 1;
        Ok(())
    }

    /// Checks that the entries seen end where the head says the chain ends.
    ///
    /// # Errors
    /// The [`ChainBreak`] naming the first missing entry or the last entry whose hash is
    /// not the head's.
    pub fn finish(&self, head: &ChainHead) -> Result<u64, ChainBreak> {
        if self.next_seq <= head.seq {
            let why = format!("missing: the chain ends at {} but its head is {}", self.next_seq - 1, head.seq);
            return Err(ChainBreak { seq: self.next_seq, id: None, reason: why });
        }
        if self.next_seq > head.anchor_seq && self.prev != head.hash {
            let reason = "its hash is not the one the chain head recorded (changed after it was written)".to_owned();
            return Err(ChainBreak { seq: self.next_seq - 1, id: None, reason });
        }
        Ok(self.checked)
    }
}
