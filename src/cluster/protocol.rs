//! How the cluster and a node's thread talk: the [`Request`]s a thread handles, the
//! [`Report`] (with its [`Answer`]) it sends back, and [`receive`], how both sides
//! wait on a channel.

use std::collections::BTreeMap;
use std::time::Duration;

use crossbeam_channel::Receiver;

use super::checker::LoadedSnapshot;
use super::node::NodeState;
use crate::kv::KvStore;
use crate::raft::snapshot::SnapshotError;
use crate::raft::{
    Command, ConfChange, Envelope, Index, Log, MembershipError, NodeId, ProgressView, Proposal,
    ProposeError, RaftConfig, Ready, Status, TransferError,
};

/// Work for a node.
#[derive(Debug)]
pub enum Request {
    /// Time is now `now`: receive `inbox`, then tick once.
    Round {
        /// The tick being processed.
        now: u64,
        /// The messages due to this node at `now`, in delivery order.
        inbox: Vec<Envelope>,
    },
    /// Propose commands, in order. Their AppendEntries leave with the next round, so
    /// every command proposed between two ticks travels in one message.
    Propose {
        /// The current tick.
        now: u64,
        /// The commands.
        commands: Vec<Command>,
    },
    /// Receive one message now, ahead of its due time (stepping by hand).
    Deliver {
        /// The current tick.
        now: u64,
        /// The message.
        envelope: Envelope,
    },
    /// Propose a membership change (§4.1). Its entry leaves with the next round.
    ProposeChange {
        /// The current tick.
        now: u64,
        /// The change.
        change: ConfChange,
    },
    /// Hand leadership to `target` (§3.10).
    Transfer {
        /// The current tick.
        now: u64,
        /// The node to take over.
        target: NodeId,
    },
    /// Make the election timer fire now.
    TimeoutNow {
        /// The current tick.
        now: u64,
    },
    /// Make a leader's heartbeat timer fire now.
    HeartbeatNow {
        /// The current tick.
        now: u64,
    },
    /// Send what waits for the next round now.
    Flush {
        /// The current tick.
        now: u64,
    },
    /// Snapshot the state machine as it was at `index` (at most the last applied).
    SnapshotAt {
        /// The current tick.
        now: u64,
        /// The snapshot's last included index.
        index: Index,
    },
    /// Describe a leader's view of its followers.
    Progress,
    /// Snapshot the state machine at its last applied index.
    Snapshot {
        /// The current tick.
        now: u64,
    },
    /// Snapshot automatically at every multiple of this many applied entries.
    SetAutoSnapshot(Option<u64>),
    /// Use this core configuration from the next step on (the playground's `set`).
    SetConfig(RaftConfig),
    /// Describe the node's log and state machine.
    Inspect,
    /// Hand over a copy of everything the thread holds, for a checkpoint. Changes
    /// nothing.
    Capture,
    /// Stop: everything not persisted is lost.
    Crash,
    /// Panic with this message in the next round (a test of how panics are reported).
    PlantPanic(String),
}

/// The part of a reply specific to its request.
#[derive(Debug)]
pub enum Answer {
    /// Nothing beyond the report.
    Done,
    /// The result of a proposal: where the first command went (the others follow it),
    /// or who leads.
    Proposed(Result<Proposal, ProposeError>),
    /// Whether the election timer fired (false for a leader).
    TimedOut(bool),
    /// Where a membership change's entry went, or why it was refused.
    ChangeProposed(Result<Proposal, MembershipError>),
    /// Whether a leadership transfer began, or why not.
    Transferring(Result<(), TransferError>),
    /// The snapshot index, or why there was none.
    Snapshotted(Result<Index, SnapshotError>),
    /// The node's log and state machine.
    Inspected(Box<NodeView>),
    /// A leader's view of each follower; `None` unless the node leads.
    Progress(Option<BTreeMap<NodeId, ProgressView>>),
    /// A copy of the thread's state (its storage is the cluster's to copy).
    Captured(Box<NodeState>),
    /// The thread has ended.
    Crashed,
    /// Handling the request panicked, with this message: a bug. The thread has ended,
    /// and the node counts as crashed (its storage holds what it persisted).
    Panicked(String),
}

/// A node's log and state machine, for views.
#[derive(Clone, Debug)]
pub struct NodeView {
    /// The log (after the snapshot base), including proposals not yet persisted: a
    /// clone that shares the node's storage, so a view copies no entry.
    pub log: Log,
    /// The state machine.
    pub kv: KvStore,
}

/// What a node reports after handling a request.
#[derive(Debug)]
pub struct Report {
    /// Which node.
    pub id: NodeId,
    /// The request-specific answer.
    pub answer: Answer,
    /// Its state afterwards.
    pub status: Status,
    /// The tick its clock has reached.
    pub clock: u64,
    /// Ticks from `clock` until a timer fires.
    pub ticks_until_due: u64,
    /// Ticks from `clock` until the role's main timer fires, the one a view draws
    /// ([`crate::raft::Node::timer_due_in`]).
    pub timer_due_in: u64,
    /// The full length of that timer ([`crate::raft::Node::timer_length`]).
    pub timer_length: u64,
    /// Outputs handled, in order: persisted, applied, messages to route.
    pub readies: Vec<(Ready, Option<LoadedSnapshot>)>,
    /// True if the core holds proposals whose messages wait for the next round.
    pub pending: bool,
    /// A candidate's votes in its election, itself included (`None` unless a
    /// candidate).
    pub votes: Option<Vec<NodeId>>,
}

/// How many times a thread polls its channel before it blocks on it.
const SPIN_POLLS: u32 = 300;

/// The longest the cluster waits for its node threads. A round takes microseconds;
/// a thread silent for this long is stuck in an endless loop (a bug), and the
/// cluster gives up instead of hanging whoever drives it.
pub const STUCK_AFTER: Duration = Duration::from_secs(30);

/// Receives the next message, polling briefly before blocking. In lockstep the next
/// piece of work usually comes within microseconds; a thread that is still polling
/// takes it without the sleep and wake-up a blocked one costs (measured on 2 cores:
/// idle 5-node clusters tick about 1.5 times faster). Between polls the thread yields,
/// so polling never keeps a thread with real work off a core. `None` once every
/// sender is gone.
pub fn receive<T>(channel: &Receiver<T>) -> Option<T> {
    spin(channel).or_else(|| channel.recv().ok())
}

/// Like [`receive`], but gives up after `limit`: `Err(true)` once every sender is
/// gone, `Err(false)` if nothing came in time.
pub fn receive_within<T>(channel: &Receiver<T>, limit: Duration) -> Result<T, bool> {
    if let Some(message) = spin(channel) {
        return Ok(message);
    }
    channel
        .recv_timeout(limit)
        .map_err(|error| error.is_disconnected())
}

/// Polls `channel` [`SPIN_POLLS`] times, yielding in between.
fn spin<T>(channel: &Receiver<T>) -> Option<T> {
    for _ in 0..SPIN_POLLS {
        match channel.try_recv() {
            Ok(message) => return Some(message),
            Err(crossbeam_channel::TryRecvError::Disconnected) => return None,
            // Give the core to any other runnable thread (there may be more threads
            // than cores) before looking again.
            Err(crossbeam_channel::TryRecvError::Empty) => std::thread::yield_now(),
        }
    }
    None
}

/// The text of a panic's payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|text| text.to_string()))
        .unwrap_or_else(|| "a panic without a message".to_string())
}
