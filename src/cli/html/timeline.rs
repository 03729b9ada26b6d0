//! The timeline: everything the HTML export draws, as one serializable value (the
//! JSON blob embedded in the page, also written by `export json`).
//!
//! It holds the trace's events, every message with its send and arrival ticks, each
//! node's state and log as they changed (frames), the network's cut links as they
//! changed, and the violations. The page's script renders only this value, so a
//! different source of the same data changes nothing in the page.
//!
//! A [`super::record::Recorder`] builds it by observing a cluster.

use serde::Serialize;
use serde_json::Value;

use crate::raft::{Index, NodeId, Term};

/// The format's name and version, first in the JSON.
pub const FORMAT: &str = "raft-playground timeline 1";

/// See the module documentation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Timeline {
    /// [`FORMAT`].
    pub format: &'static str,
    /// The cluster's seed (replay it with `--seed`).
    pub seed: u64,
    /// The number of nodes (ids 1..=nodes).
    pub nodes: usize,
    /// The first tick the timeline covers.
    pub start: u64,
    /// The last tick it covers (the current tick when exported).
    pub end: u64,
    /// False if older history was left out (a recording started late, or a cap was
    /// reached): the timeline then begins at `start`, not at tick 0.
    pub complete: bool,
    /// Trace events in order, but for the message traffic (sent, delivered,
    /// dropped), which is in `messages`.
    pub events: Vec<EventRecord>,
    /// Messages, in the order they were sent.
    pub messages: Vec<MessageRecord>,
    /// Each node's frames, by id - 1, in tick order: a frame whenever its state or
    /// log changed.
    pub frames: Vec<Vec<Frame>>,
    /// The cut links whenever they changed.
    pub links: Vec<LinkFrame>,
    /// Every broken invariant, with its tick and node.
    pub violations: Vec<ViolationRecord>,
}

/// A trace event, with its words.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventRecord {
    /// The event as the trace serializes it (`tick`, `node`, `kind`, its fields).
    #[serde(flatten)]
    pub event: Value,
    /// The event in words, as the `events` view says it.
    pub text: String,
}

/// What became of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    /// It reached its recipient at `arrived`.
    Delivered,
    /// It was dropped at `arrived` (or when sent, if `arrived` equals `sent`).
    Dropped,
    /// It was still on its way when the timeline ends.
    InFlight,
}

/// One message: who sent what to whom, when, and what became of it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MessageRecord {
    /// The message's id, as the trace, `messages`, `deliver` and `drop-msg` give it
    /// (optional in the format, for sources that do not number messages).
    pub id: Option<u64>,
    /// The sender.
    pub from: NodeId,
    /// The recipient.
    pub to: NodeId,
    /// The message type (`AppendEntries`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// The sender's term, if known.
    pub term: Option<Term>,
    /// The tick it was sent at.
    pub sent: u64,
    /// The tick it arrived or was dropped at; for one in flight, when it is due.
    pub arrived: u64,
    /// What became of it.
    pub fate: Fate,
    /// Why it was dropped, in words.
    pub reason: Option<String>,
    /// The content in a few words.
    pub summary: String,
    /// True for an AppendEntries without entries (a heartbeat) and its reply: the
    /// page can hide them.
    pub heartbeat: bool,
    /// The message's fields as the trace describes them (entries as the range of
    /// indexes carried).
    pub fields: Value,
}

/// Every role a frame may name, as the page draws them: `leader`, `candidate`,
/// `follower`, `learner`, `joining` (added, not told yet), `leaving` (its own log
/// removes it, not committed), `outside` (the entry adding it was lost), `down`,
/// `removed`. The page knows the same list (a test compares them) and checks each
/// frame's role against it.
pub const ROLE_WORDS: &[&str] = &[
    "leader",
    "candidate",
    "follower",
    "learner",
    "joining",
    "leaving",
    "outside",
    "down",
    "removed",
];

/// A node's state from `tick` on (until its next frame).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Frame {
    /// From this tick on.
    pub tick: u64,
    /// One of [`ROLE_WORDS`].
    pub role: &'static str,
    /// Its current term.
    pub term: Term,
    /// Whom it voted for in that term.
    pub voted_for: Option<NodeId>,
    /// The leader it knows of.
    pub leader: Option<NodeId>,
    /// Index of its last log entry.
    pub last_index: Index,
    /// Its commit index.
    pub commit: Index,
    /// Its last applied index.
    pub applied: Index,
    /// False while disconnected.
    pub connected: bool,
    /// How its log changed since its previous frame, if it did.
    pub log: Option<LogChange>,
}

/// A change to a log: cut it before `from`, then append `entries` (so appends,
/// truncations and snapshots are all one shape).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogChange {
    /// The first index replaced.
    pub from: Index,
    /// `[term, command]` of each entry from `from` on.
    pub entries: Vec<(Term, String)>,
    /// The snapshot's last included index: entries up to it are compacted.
    pub snapshot_index: Index,
}

/// The links cut from `tick` on: each pair `[a, b]` with a < b cannot talk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LinkFrame {
    /// From this tick on.
    pub tick: u64,
    /// The pairs that cannot exchange messages.
    pub cut: Vec<(NodeId, NodeId)>,
}

/// A broken invariant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ViolationRecord {
    /// When.
    pub tick: u64,
    /// Where.
    pub node: NodeId,
    /// What was broken.
    pub text: String,
}
