//! The replicated state machine: a key-value map driven by text commands.
//!
//! `set KEY VALUE` stores VALUE (the rest of the line, spaces included) under KEY;
//! `del KEY` removes KEY. Any other text is applied and recorded without effect, so
//! the lab's arbitrary commands replicate like any other. Besides the map the state
//! machine keeps the index of the last command it applied and a running digest of
//! every command in order, so two replicas can be compared by one number, and a
//! snapshot can be checked against the log it replaces. Snapshots are serde_json.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A parsed command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KvCommand<'a> {
    /// Store `value` under `key`.
    Set {
        /// The key.
        key: &'a str,
        /// The value: everything after the key.
        value: &'a str,
    },
    /// Remove `key`.
    Del {
        /// The key.
        key: &'a str,
    },
    /// Any other text: applied, changes nothing.
    Other,
}

impl<'a> KvCommand<'a> {
    /// Parses a command's text. Never fails: what is not `set`/`del` is `Other`.
    pub fn parse(text: &'a str) -> KvCommand<'a> {
        let mut words = text.trim_start().splitn(2, char::is_whitespace);
        let verb = words.next().unwrap_or("");
        let rest = words.next().unwrap_or("").trim_start();
        let mut rest_words = rest.splitn(2, char::is_whitespace);
        let key = rest_words.next().unwrap_or("");
        let value = rest_words.next().unwrap_or("").trim();
        match verb {
            "set" if !key.is_empty() && !value.is_empty() => KvCommand::Set { key, value },
            "del" if !key.is_empty() && value.is_empty() => KvCommand::Del { key },
            _ => KvCommand::Other,
        }
    }
}

/// Folds one applied command into a running digest (FNV-1a over the index and text).
/// Any difference in order or content gives a different digest, with overwhelming
/// probability.
pub fn fold_digest(digest: u64, index: u64, command: &str) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = digest ^ 0xcbf2_9ce4_8422_2325;
    for byte in index.to_le_bytes().iter().chain(command.as_bytes()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(PRIME);
    }
    hash
}

/// The key-value state machine of one node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvStore {
    /// The map itself.
    map: BTreeMap<String, String>,
    /// The index of the last applied command (0 if none).
    applied_index: u64,
    /// The digest of every command applied so far ([`fold_digest`]).
    digest: u64,
}

/// Why a snapshot could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("snapshot is not a key-value state: {0}")]
pub struct SnapshotDecodeError(#[from] serde_json::Error);

impl KvStore {
    /// An empty map.
    pub fn new() -> KvStore {
        KvStore::default()
    }

    /// Applies the command at `index`, which must be the next one.
    pub fn apply(&mut self, index: u64, command: &str) {
        assert_eq!(
            index,
            self.applied_index + 1,
            "the state machine applies commands in order without gaps"
        );
        match KvCommand::parse(command) {
            KvCommand::Set { key, value } => {
                self.map.insert(key.to_string(), value.to_string());
            }
            KvCommand::Del { key } => {
                self.map.remove(key);
            }
            KvCommand::Other => {}
        }
        self.applied_index = index;
        self.digest = fold_digest(self.digest, index, command);
    }

    /// The value stored under `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    /// Every key and value, in key order.
    pub fn entries(&self) -> &BTreeMap<String, String> {
        &self.map
    }

    /// The index of the last applied command.
    pub fn applied_index(&self) -> u64 {
        self.applied_index
    }

    /// The digest of every command applied so far.
    pub fn digest(&self) -> u64 {
        self.digest
    }

    /// The state as a serde_json snapshot.
    pub fn snapshot(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a map of strings always serializes")
    }

    /// Rebuilds the state from a snapshot made by [`KvStore::snapshot`].
    pub fn restore(data: &[u8]) -> Result<KvStore, SnapshotDecodeError> {
        Ok(serde_json::from_slice(data)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands() {
        assert_eq!(
            KvCommand::parse("set x 1"),
            KvCommand::Set {
                key: "x",
                value: "1"
            }
        );
        assert_eq!(
            KvCommand::parse("set greeting hello world"),
            KvCommand::Set {
                key: "greeting",
                value: "hello world"
            }
        );
        assert_eq!(KvCommand::parse("del x"), KvCommand::Del { key: "x" });
        assert_eq!(KvCommand::parse("set x"), KvCommand::Other);
        assert_eq!(KvCommand::parse("del x y"), KvCommand::Other);
        assert_eq!(KvCommand::parse("101"), KvCommand::Other);
        assert_eq!(KvCommand::parse(""), KvCommand::Other);
    }

    #[test]
    fn applies_and_snapshots() {
        let mut kv = KvStore::new();
        kv.apply(1, "set a 1");
        kv.apply(2, "set b two words");
        kv.apply(3, "noise");
        kv.apply(4, "del a");
        assert_eq!(kv.get("a"), None);
        assert_eq!(kv.get("b"), Some("two words"));
        let restored = KvStore::restore(&kv.snapshot()).unwrap();
        assert_eq!(restored, kv);
        assert_eq!(restored.applied_index(), 4);
        assert!(KvStore::restore(b"not json").is_err());
    }

    #[test]
    fn digest_depends_on_order_and_content() {
        let mut a = KvStore::new();
        a.apply(1, "x");
        a.apply(2, "y");
        let mut b = KvStore::new();
        b.apply(1, "y");
        b.apply(2, "x");
        assert_ne!(a.digest(), b.digest());
        let mut c = KvStore::new();
        c.apply(1, "x");
        c.apply(2, "y");
        assert_eq!(a.digest(), c.digest());
    }

    #[test]
    #[should_panic(expected = "in order without gaps")]
    fn refuses_gaps() {
        KvStore::new().apply(2, "x");
    }
}
