//! The invariants the checker checks, each with a stable name: what a violation
//! reports, and what a script's `expect violation NAME` names.

use std::fmt;

use serde::Serialize;

/// One invariant the checker checks. See the checker's module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Invariant {
    /// At most one leader per term (§5.2).
    ElectionSafety,
    /// Two logs with an entry of the same index and term agree there and before (§5.3).
    LogMatching,
    /// A new leader holds every entry anyone applied (§5.4).
    LeaderCompleteness,
    /// No two nodes apply different commands at one index; a snapshot is the state
    /// of the commands it replaces (§5.4.3).
    StateMachineSafety,
    /// A state machine applies indexes in order, without gaps, never going back.
    ApplyOrder,
    /// A snapshot a state machine loads decodes and reflects its own index.
    SnapshotState,
    /// On a live node, term, commit index and last applied never decrease.
    Monotonic,
    /// Nothing is sent that depends on state not yet persisted (Figure 2: persist
    /// before responding): a message's term, a vote, an acknowledged entry.
    PersistBeforeSend,
    /// A leader's commit is justified: its entry at that index is of its current term
    /// (§5.4.2, Figure 8) and a majority of persisted logs hold it.
    CommitJustified,
    /// A node's persisted log keeps every entry it acknowledged in its current term.
    AckedEntriesKept,
    /// A node's thread panicked: a bug, reported like a broken invariant.
    NodePanic,
}

impl Invariant {
    /// Every invariant, in the order the checker's documentation lists them.
    pub const ALL: [Invariant; 11] = [
        Invariant::ElectionSafety,
        Invariant::LogMatching,
        Invariant::LeaderCompleteness,
        Invariant::StateMachineSafety,
        Invariant::ApplyOrder,
        Invariant::SnapshotState,
        Invariant::Monotonic,
        Invariant::PersistBeforeSend,
        Invariant::CommitJustified,
        Invariant::AckedEntriesKept,
        Invariant::NodePanic,
    ];

    /// The stable name, as violations show it and `expect violation NAME` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Invariant::ElectionSafety => "election-safety",
            Invariant::LogMatching => "log-matching",
            Invariant::LeaderCompleteness => "leader-completeness",
            Invariant::StateMachineSafety => "state-machine-safety",
            Invariant::ApplyOrder => "apply-order",
            Invariant::SnapshotState => "snapshot-state",
            Invariant::Monotonic => "monotonic",
            Invariant::PersistBeforeSend => "persist-before-send",
            Invariant::CommitJustified => "commit-justified",
            Invariant::AckedEntriesKept => "acked-entries-kept",
            Invariant::NodePanic => "node-panic",
        }
    }

    /// What the invariant says, in one line.
    pub fn description(self) -> &'static str {
        match self {
            Invariant::ElectionSafety => "at most one leader per term (§5.2)",
            Invariant::LogMatching => {
                "logs with an entry of the same index and term agree there and before it (§5.3)"
            }
            Invariant::LeaderCompleteness => {
                "a new leader holds every entry committed in an earlier term (§5.4)"
            }
            Invariant::StateMachineSafety => {
                "no two nodes apply different commands at one index (§5.4.3)"
            }
            Invariant::ApplyOrder => "entries are applied in order, without gaps, never backwards",
            Invariant::SnapshotState => "a loaded snapshot is the state at its own index",
            Invariant::Monotonic => {
                "term, commit index and last applied never decrease on a live node"
            }
            Invariant::PersistBeforeSend => {
                "nothing is sent that depends on state not yet persisted (Figure 2)"
            }
            Invariant::CommitJustified => {
                "a leader commits only an entry of its term that a majority persisted (§5.4.2)"
            }
            Invariant::AckedEntriesKept => {
                "a persisted log keeps every entry acknowledged in the current term"
            }
            Invariant::NodePanic => "no node thread panics",
        }
    }

    /// The invariant with this name, or a message that lists every name.
    pub fn from_name(name: &str) -> Result<Invariant, String> {
        Invariant::ALL
            .into_iter()
            .find(|invariant| invariant.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Invariant::ALL.iter().map(|i| i.name()).collect();
                format!(
                    "unknown invariant `{}`; the invariants are {}",
                    name.chars().take(40).collect::<String>(),
                    names.join(", ")
                )
            })
    }
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Invariant {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}
