//! Log entries: an [`Entry`] is a [`Command`] for the state machine and the term of
//! the leader that created it, at its index (Figure 2); or, rarely, one of Raft's own
//! entries ([`EntryKind`]: a leader no-op or a configuration).

use serde::Serialize;
use serde::ser::SerializeStruct;

use std::sync::Arc;

use super::membership::Configuration;
use super::{Index, Term};

/// Bytes of a fixed-size field, as `Envelope::encoded_len` counts them.
const WORD: u64 = 8;

/// One entry of the replicated log (Figure 2: "each entry contains command for state
/// machine, and term when entry was received by leader").
///
/// As JSON: `{"index", "term", "command"}` for a client's command, `{"index", "term",
/// "kind"}` for a no-op or a configuration (which carry no command).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The entry's position in the log; the first entry has index 1.
    pub index: Index,
    /// The term of the leader that created the entry.
    pub term: Term,
    /// The state machine command, as text (empty unless `kind` is a command).
    pub command: Command,
    /// What the entry is for: almost always a client's command.
    pub kind: EntryKind,
}

impl Serialize for Entry {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut entry = serializer.serialize_struct("Entry", 3)?;
        entry.serialize_field("index", &self.index)?;
        entry.serialize_field("term", &self.term)?;
        if self.kind.is_command() {
            entry.serialize_field("command", &self.command)?;
        } else {
            entry.serialize_field("kind", &self.kind)?;
        }
        entry.end()
    }
}

impl Entry {
    /// A client command's entry.
    pub fn command(index: Index, term: Term, command: Command) -> Entry {
        Entry {
            index,
            term,
            command,
            kind: EntryKind::Command,
        }
    }

    /// One of the core's own entries (a no-op or a configuration), with no command.
    pub fn internal(index: Index, term: Term, kind: EntryKind) -> Entry {
        Entry {
            index,
            term,
            command: Command::default(),
            kind,
        }
    }
}

/// What a log entry is for. The state machine applies only commands; a no-op or a
/// configuration entry still takes its index, which counts as applied like any other.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A client's command for the state machine.
    #[default]
    Command,
    /// The empty entry a new leader appends when the leader no-op is on (§8), so the
    /// entries of older terms before it commit with it (§5.4.2).
    NoOp,
    /// A membership change (dissertation §4.1): the whole configuration it sets, in
    /// force on a node as soon as the entry is in its log. (The whole configuration,
    /// not the change, so that every node reads the same one from the entry alone.)
    Configuration(Arc<Configuration>),
}

impl EntryKind {
    /// True for a client's command.
    pub fn is_command(&self) -> bool {
        *self == EntryKind::Command
    }

    /// The bytes the kind adds to an entry's encoding (see `Envelope::encoded_len`):
    /// nothing for a command (so the lab's byte counts stay as they were), a tag for a
    /// no-op, a tag, two counts (voters, learners) and a word per server for a
    /// configuration.
    pub fn extra_encoded_len(&self) -> u64 {
        match self {
            EntryKind::Command => 0,
            EntryKind::NoOp => WORD,
            EntryKind::Configuration(configuration) => {
                (3 + configuration.voters.len() + configuration.learners.len()) as u64 * WORD
            }
        }
    }
}

impl std::fmt::Display for EntryKind {
    /// `command`, `no-op`, or the configuration (`configuration voters 1,2,3
    /// learners 6`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EntryKind::Command => f.write_str("command"),
            EntryKind::NoOp => f.write_str("no-op"),
            EntryKind::Configuration(configuration) => {
                write!(f, "configuration {configuration}")
            }
        }
    }
}

/// A state machine command: text that is cheap to copy. Short commands (most of
/// them: `set x 1`, the lab's numbers; up to [`smol_str::SmolStr::INLINE_CAP`] bytes)
/// are stored inline, so copying an entry into a message, into storage or to the
/// state machine copies 24 bytes and touches no shared counter; longer ones are
/// shared behind a reference count, so copying them never copies their text.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Command(smol_str::SmolStr);

impl Command {
    /// The command's text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl From<&str> for Command {
    fn from(text: &str) -> Command {
        Command(smol_str::SmolStr::new(text))
    }
}

impl From<String> for Command {
    fn from(text: String) -> Command {
        Command(smol_str::SmolStr::from(text))
    }
}

impl std::ops::Deref for Command {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for Command {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Command {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_kinds_display_as_traces_name_them() {
        let configuration = Configuration::with_voters([1, 2, 3]);
        let kinds = [
            EntryKind::Command,
            EntryKind::NoOp,
            EntryKind::Configuration(configuration.clone().into()),
        ];
        assert_eq!(
            kinds.map(|kind| kind.to_string()),
            [
                "command".to_string(),
                "no-op".to_string(),
                format!("configuration {configuration}")
            ]
        );
    }

    #[test]
    fn entries_serialize_a_command_or_a_kind_never_both() {
        let json = |entry: Entry| serde_json::to_string(&entry).unwrap();
        assert_eq!(
            json(Entry::command(1, 2, "set x 1".into())),
            r#"{"index":1,"term":2,"command":"set x 1"}"#
        );
        // A command may be empty; it is still a command.
        assert_eq!(
            json(Entry::command(3, 2, "".into())),
            r#"{"index":3,"term":2,"command":""}"#
        );
        assert_eq!(
            json(Entry::internal(2, 2, EntryKind::NoOp)),
            r#"{"index":2,"term":2,"kind":"no_op"}"#
        );
        let configuration = Configuration::with_voters([1, 2]);
        assert_eq!(
            json(Entry::internal(
                4,
                3,
                EntryKind::Configuration(configuration.into())
            )),
            r#"{"index":4,"term":3,"kind":{"configuration":{"voters":[1,2],"learners":[]}}}"#
        );
    }

    #[test]
    fn commands_short_and_long_behave_alike() {
        let short = Command::from("set x 1");
        let long = Command::from("y".repeat(5000));
        assert!(!short.0.is_heap_allocated());
        assert!(long.0.is_heap_allocated());
        assert_eq!(short.as_str(), "set x 1");
        assert_eq!(long.len(), 5000);
        assert_eq!(short, Command::from("set x 1"));
        assert_ne!(short, Command::from("set x 2"));
        assert_eq!(long.clone(), long);
        assert_eq!(Command::from("é".repeat(11)).as_str(), "é".repeat(11));
        assert!(
            !Command::from("é".repeat(11)).0.is_heap_allocated(),
            "22 bytes of UTF-8 inline"
        );
        // A long command is shared, not copied.
        let copy = long.clone();
        assert_eq!(copy.as_ptr(), long.as_ptr());
        assert_eq!(format!("{short} {short:?}"), "set x 1 \"set x 1\"");
        assert_eq!(serde_json::to_string(&short).unwrap(), "\"set x 1\"");
        assert_eq!(Command::from(""), *"");
        assert!(short == *"set x 1" && short != *"set x 2" && short != *"");
        // An entry stays small: index, term, a 24-byte command and a 16-byte kind (a
        // tag, or a shared configuration). Logs do not even store the kind per entry.
        assert_eq!(std::mem::size_of::<Command>(), 24);
        assert_eq!(std::mem::size_of::<EntryKind>(), 16);
        assert_eq!(std::mem::size_of::<Entry>(), 56);
    }
}
