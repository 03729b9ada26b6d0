//! What one frame of the dashboard shows, gathered from the cluster's public views
//! (status, links, messages in flight, logs, the trace) under one lock, so drawing
//! never touches the cluster and a frame is a plain value a test can build and render.

use std::time::Duration;

use crate::cluster::router::{DropReason, InFlight};
use crate::cluster::trace::{TraceEvent, TraceKind};
use crate::cluster::{Cluster, NodeStatus};
use crate::raft::{Event, Index, Log, NodeId, Term};

/// How many log indexes a scene keeps (the widest grid a terminal shows).
pub const LOG_WINDOW: u64 = 64;
/// How many recent trace events a scene keeps.
pub const EVENT_WINDOW: usize = 60;
/// How many of the trace's latest events a scene looks through for those worth a
/// line (most are message traffic).
pub const EVENT_LOOKBACK: usize = 2000;
/// How many messages in flight a scene keeps (the rest are only counted).
pub const MESSAGE_WINDOW: usize = 40;

/// The session's clock as the dashboard shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockState {
    /// True while the free-running clock ticks.
    pub running: bool,
    /// Real time per tick.
    pub interval: Duration,
}

/// One node's line: its status and whom it can reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeRow {
    /// Role, term, vote, indexes, up/connected and timer.
    pub status: NodeStatus,
    /// The other nodes it can exchange messages with.
    pub links: Vec<NodeId>,
}

/// One node's row of the log grid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRow {
    /// Whose log.
    pub id: NodeId,
    /// The term of each index of the window (`None`: no entry there).
    pub terms: Vec<Option<Term>>,
    /// Its snapshot's last included index: indexes up to it are compacted.
    pub snapshot_index: Index,
    /// Its commit index (a down node's is the snapshot index it would restart with).
    pub commit_index: Index,
}

/// The logs over a window of indexes `first..=last`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogWindow {
    /// The first index of the window (1 when the logs are short).
    pub first: Index,
    /// The highest index any log holds (0 if every log is empty).
    pub last: Index,
    /// One row per node, in id order.
    pub rows: Vec<LogRow>,
}

/// Everything one frame shows. See the module documentation.
#[derive(Clone, Debug, PartialEq)]
pub struct Scene {
    /// The current tick.
    pub tick: u64,
    /// The cluster's seed (to replay it).
    pub seed: u64,
    /// The clock.
    pub clock: ClockState,
    /// Every node, in id order.
    pub nodes: Vec<NodeRow>,
    /// The up node leading the highest term, if any.
    pub leader: Option<NodeId>,
    /// The first messages in flight, in delivery order.
    pub messages: Vec<InFlight>,
    /// How many messages are in flight in all.
    pub message_count: usize,
    /// The tail of every log.
    pub logs: LogWindow,
    /// Recent trace events worth a line, oldest first.
    pub events: Vec<TraceEvent>,
    /// Every broken invariant so far, one line each.
    pub violations: Vec<String>,
}

impl Scene {
    /// Gathers a frame from the cluster. Reading logs asks the node threads, hence
    /// `&mut`; nothing here changes the cluster's state or its history.
    pub fn gather(cluster: &mut Cluster, clock: ClockState) -> Scene {
        let size = cluster.size();
        let nodes: Vec<NodeRow> = (1..=size)
            .map(|id| NodeRow {
                status: cluster.status(id),
                links: (1..=size)
                    .filter(|&other| other != id && cluster.linked(id, other))
                    .collect(),
            })
            .collect();
        let in_flight = cluster.in_flight();
        let message_count = in_flight.len();
        let messages = in_flight.into_iter().take(MESSAGE_WINDOW).collect();
        let logs: Vec<(NodeId, Log, Index)> = nodes
            .iter()
            .map(|row| {
                let id = row.status.id;
                // An up node shows its log with proposals not yet persisted; a down
                // node what it persisted, which is what a restart begins with.
                let inspected = row.status.up.then(|| cluster.inspect(id).ok()).flatten();
                let log = match inspected {
                    Some(view) => view.log,
                    None => cluster.persisted_log(id).unwrap_or_default(),
                };
                (id, log, row.status.commit_index)
            })
            .collect();
        let events = cluster
            .events(EVENT_LOOKBACK)
            .into_iter()
            .filter(|event| worth_a_line(&event.kind))
            .collect::<Vec<_>>();
        let skip = events.len().saturating_sub(EVENT_WINDOW);
        Scene {
            tick: cluster.now(),
            seed: cluster.seed(),
            clock,
            leader: cluster.leader(),
            nodes,
            messages,
            message_count,
            logs: LogWindow::of(&logs),
            events: events.into_iter().skip(skip).collect(),
            violations: cluster.violations(),
        }
    }

    /// The row of node `id`, if the cluster has it.
    pub fn node(&self, id: NodeId) -> Option<&NodeRow> {
        self.nodes.get(id.checked_sub(1)?)
    }
}

impl LogWindow {
    /// The last [`LOG_WINDOW`] indexes of these logs, given with their commit indexes.
    pub fn of(logs: &[(NodeId, Log, Index)]) -> LogWindow {
        let last = logs.iter().map(|(_, log, _)| log.last_index()).max();
        let Some(last) = last.filter(|&last| last > 0) else {
            return LogWindow {
                first: 1,
                last: 0,
                rows: Vec::new(),
            };
        };
        let first = last.saturating_sub(LOG_WINDOW - 1).max(1);
        let rows = logs
            .iter()
            .map(|(id, log, commit_index)| LogRow {
                id: *id,
                terms: (first..=last)
                    .map(|index| log.get(index).map(|entry| entry.term))
                    .collect(),
                snapshot_index: log.snapshot_index(),
                commit_index: *commit_index,
            })
            .collect();
        LogWindow { first, last, rows }
    }
}

/// True for events the dashboard lists. Left out: the network's traffic (sent and
/// delivered: the messages panel shows what is in flight), routine applies (the log
/// grid shows them as commit marks) and messages lost to a cut link, a down node or
/// the drop rate (during a partition they would fill the panel every tick); a
/// message dropped by hand stays, as the answer to a key. A receiver's routine
/// decisions (a vote counted, a leader's view of a follower updated, a stale message
/// ignored) come with every answer, so they stay out too; a rejected AppendEntries
/// (a log that does not match) stays.
pub fn worth_a_line(kind: &TraceKind) -> bool {
    match kind {
        TraceKind::Applied { .. } | TraceKind::Sent { .. } | TraceKind::Delivered { .. } => false,
        TraceKind::Dropped { reason, .. } => *reason == DropReason::Manual,
        TraceKind::Raft { event } => !matches!(
            event,
            Event::VoteCounted { .. }
                | Event::ProgressUpdated { .. }
                | Event::StaleTermIgnored { .. }
        ),
        TraceKind::Partitioned { .. }
        | TraceKind::Healed
        | TraceKind::SnapshotLoaded { .. }
        | TraceKind::Crashed
        | TraceKind::Restarted
        | TraceKind::Disconnected
        | TraceKind::Connected
        | TraceKind::Rule { .. }
        | TraceKind::Added
        | TraceKind::Removed { .. }
        | TraceKind::Violation { .. } => true,
    }
}
