//! The replicated state machine: a key-value map driven by text commands.
//!
//! `set KEY VALUE` stores VALUE (the rest of the line, spaces included) under KEY;
//! `del KEY` removes KEY. Any other text is applied and recorded without effect, so
//! the lab's arbitrary commands replicate like any other. Besides the map the state
//! machine keeps the index of the last command it applied and a running digest of
//! every command in order, so two replicas can be compared by one number, and a
//! snapshot can be checked against the log it replaces. Snapshots are serde_json.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::digest::fold_command;

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
        let text = text.trim_start_matches([' ', '\t']);
        let (verb, rest) = split_word(text);
        let (key, value) = split_word(rest);
        let value = value.trim_end_matches([' ', '\t']);
        match verb {
            "set" if !key.is_empty() && !value.is_empty() => KvCommand::Set { key, value },
            "del" if !key.is_empty() && value.is_empty() => KvCommand::Del { key },
            _ => KvCommand::Other,
        }
    }
}

/// Splits off the first word; the rest starts at the next word (empty if none).
/// Words are separated by spaces and tabs.
fn split_word(text: &str) -> (&str, &str) {
    let is_blank = |byte: &u8| *byte == b' ' || *byte == b'\t';
    match text.bytes().position(|byte| is_blank(&byte)) {
        Some(end) => {
            let rest = &text[end..];
            let skip = rest.bytes().take_while(is_blank).count();
            (&text[..end], &rest[skip..])
        }
        None => (text, ""),
    }
}

/// The key-value state machine of one node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvStore {
    /// The map itself. Only looked up here: views and snapshots sort it first, so
    /// its order never shows.
    map: HashMap<String, String>,
    /// The index of the last applied command (0 if none).
    applied_index: u64,
    /// The digest of every command applied so far ([`fold_command`]).
    digest: u64,
}

/// The snapshot encoding: the map in key order, so equal states give equal bytes.
#[derive(Serialize, Deserialize)]
struct Encoded<'a> {
    #[serde(borrow)]
    map: BTreeMap<&'a str, &'a str>,
    applied_index: u64,
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
            KvCommand::Set { key, value } => match self.map.get_mut(key) {
                // Overwrite in place: no new allocation for a key seen before.
                Some(stored) => {
                    stored.clear();
                    stored.push_str(value);
                }
                None => {
                    self.map.insert(key.to_string(), value.to_string());
                }
            },
            KvCommand::Del { key } => {
                self.map.remove(key);
            }
            KvCommand::Other => {}
        }
        self.applied_index = index;
        self.digest = fold_command(self.digest, index, command);
    }

    /// Passes over the entry at `index`, which must be the next one and is not a
    /// client's command (a leader no-op or a configuration entry): the map does not
    /// change, but the index counts as applied, and the digest folds it in as an entry
    /// with no command text (as Raft's log holds it).
    pub fn skip(&mut self, index: u64) {
        assert_eq!(
            index,
            self.applied_index + 1,
            "the state machine applies commands in order without gaps"
        );
        self.applied_index = index;
        self.digest = fold_command(self.digest, index, "");
    }

    /// The value stored under `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    /// Every key and value, in key order.
    pub fn entries(&self) -> BTreeMap<String, String> {
        self.map
            .iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect()
    }

    /// How many keys are set.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True if no key is set.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The index of the last applied command.
    pub fn applied_index(&self) -> u64 {
        self.applied_index
    }

    /// The digest of every command applied so far.
    pub fn digest(&self) -> u64 {
        self.digest
    }

    /// The state as a serde_json snapshot (keys in order).
    pub fn snapshot(&self) -> Vec<u8> {
        let encoded = Encoded {
            map: self
                .map
                .iter()
                .map(|(key, value)| (key.as_str(), value.as_str()))
                .collect(),
            applied_index: self.applied_index,
            digest: self.digest,
        };
        serde_json::to_vec(&encoded).expect("a map of strings always serializes")
    }

    /// Rebuilds the state from a snapshot made by [`KvStore::snapshot`].
    pub fn restore(data: &[u8]) -> Result<KvStore, SnapshotDecodeError> {
        let encoded: Encoded = serde_json::from_slice(data)?;
        Ok(KvStore {
            map: encoded
                .map
                .into_iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect(),
            applied_index: encoded.applied_index,
            digest: encoded.digest,
        })
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
        // Equal states encode to equal bytes, whatever the insertion order.
        let mut other = KvStore::new();
        other.apply(1, "set b two words");
        other.apply(2, "set a 1");
        other.apply(3, "noise");
        other.apply(4, "del a");
        other.digest = kv.digest;
        assert_eq!(other.snapshot(), kv.snapshot());
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
