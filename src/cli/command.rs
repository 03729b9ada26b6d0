//! The one grammar of the playground: the [`Command`]s every line typed at the prompt
//! or found in a script becomes (the parser is [`super::parse()`]). Every command's
//! usage, summary and example is in [`COMMANDS`] (`usage.rs`), which `help`,
//! completion, hints and error messages all read.
//!
//! A command that changes the cluster and names everything concretely is an
//! [`Action`] as it stands ([`Command::Act`]); one that names nodes by role
//! (`crash leader`, `snapshot all`) or picks messages (`deliver all`) becomes a list
//! of actions when it runs ([`super::actions`]).

pub use super::usage::{
    COMMANDS, EXPECT_FORMS, FORMS, OPERATORS, PROGRESS_STATES, WAIT_FORMS, form_of, spec_of,
    usage_of,
};
pub use crate::cluster::action::MAX_TICKS;
use crate::cluster::{Action, Invariant};
use crate::raft::{NodeId, Role};

/// One node or a set of nodes, resolved when the command runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A node by number (`3` or `n3`).
    Node(NodeId),
    /// Whichever node leads.
    Leader,
    /// Every node but the leader.
    Followers,
    /// Every node.
    All,
}

/// A comma-separated list of targets (`1,2`, `leader`, `n1,followers`).
pub type Targets = Vec<Target>;

/// How many nodes a `commit` wait or expectation needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Quorum {
    /// Every up node.
    All,
    /// More than half of the cluster.
    Majority,
    /// At least this many nodes (`on 3 nodes`).
    AtLeast(usize),
    /// These nodes.
    Nodes(Targets),
}

/// A comparison for `expect term`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `==` (or `=`)
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Op {
    /// Applies the comparison.
    pub fn holds(self, left: u64, right: u64) -> bool {
        match self {
            Op::Eq => left == right,
            Op::Ne => left != right,
            Op::Lt => left < right,
            Op::Le => left <= right,
            Op::Gt => left > right,
            Op::Ge => left >= right,
        }
    }

    /// The operator as typed.
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// A role in `expect role`, or `down`; or a place in the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleOrDown {
    /// Up, in this role.
    Role(Role),
    /// Crashed.
    Down,
    /// Up, and a learner in the configuration it uses (§4.2.1).
    Learner,
    /// Removed from the cluster by a committed configuration.
    Removed,
}

/// A configuration as `expect members` and `wait members` state it: its voters, and
/// its learners if given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MembersWanted {
    /// The voters, in id order.
    pub voters: Vec<NodeId>,
    /// The learners, in id order; `None` to leave them unchecked.
    pub learners: Option<Vec<NodeId>>,
}

/// A number in a node's status, for `expect FIELD NODES OP N` and `wait FIELD [NODES] OP N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `term`: the current term.
    Term,
    /// `commit`: the commit index.
    Commit,
    /// `snapshot`: the snapshot's last included index.
    Snapshot,
    /// `last-index`: the index of the last log entry.
    LastIndex,
    /// `applied`: the last applied index.
    Applied,
}

impl Field {
    /// The field's name as typed.
    pub fn name(self) -> &'static str {
        match self {
            Field::Term => "term",
            Field::Commit => "commit",
            Field::Snapshot => "snapshot",
            Field::LastIndex => "last-index",
            Field::Applied => "applied",
        }
    }
}

/// What `wait` waits for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WaitFor {
    /// Some up, connected node leads.
    Leader,
    /// A node leads a higher term than the leader when the wait began (any leader,
    /// if none led then): `wait leader new`.
    NewLeader,
    /// These nodes have this role: `wait role NODES ROLE`.
    Role(Targets, RoleOrDown),
    /// A number in the status of these nodes (every up node by default) compares so:
    /// `wait term|applied|snapshot|last-index [NODES] OP N` (and `wait applied
    /// [NODES] INDEX`, for `>=`). Never [`Field::Commit`]: `wait commit` counts nodes.
    Field(Field, Option<Targets>, Op, u64),
    /// `index` is committed on enough nodes.
    Commit {
        /// The log index.
        index: u64,
        /// On how many.
        on: Quorum,
    },
    /// Every up member uses this configuration.
    Members(MembersWanted),
    /// Just time.
    Ticks(u64),
}

/// What `expect` checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expectation {
    /// There is a leader (and it is this node).
    Leader(Option<Targets>),
    /// No up, connected node leads.
    NoLeader,
    /// These nodes have this role.
    Role(Targets, RoleOrDown),
    /// A number of these nodes' status compares so.
    Field(Field, Targets, Op, u64),
    /// `index` is committed on enough nodes.
    Committed(u64, Quorum),
    /// These nodes voted for this candidate in their current term (or for nobody).
    Voted(Targets, Option<Target>),
    /// These nodes know this node as their leader (or know none).
    LeaderKnown(Targets, Option<Target>),
    /// These nodes' logs hold entries of exactly these terms, in order, after their
    /// snapshot.
    Log(Targets, Vec<u64>),
    /// These nodes hold an entry at `index` with this term (and command).
    Entry {
        /// Which nodes.
        nodes: Targets,
        /// The log index.
        index: u64,
        /// The entry's term.
        term: u64,
        /// Its command, if given.
        command: Option<String>,
    },
    /// A leader's view of followers: their replication state, `match_index` and
    /// `next_index`.
    Progress {
        /// The leader.
        leader: Target,
        /// The followers.
        followers: Targets,
        /// `probe`, `replicate` or `snapshot`.
        state: &'static str,
        /// The `match_index` wanted, if given.
        match_index: Option<u64>,
        /// The `next_index` wanted, if given.
        next_index: Option<u64>,
    },
    /// Some message in flight from `from` to `to` has this type and these fields.
    Message {
        /// Its sender.
        from: Target,
        /// Its recipient.
        to: Target,
        /// Its type.
        kind: &'static str,
        /// `name=value` pairs its fields must show.
        fields: Vec<(String, String)>,
    },
    /// No message in flight is picked by the filter.
    NoMessage(MessageFilter),
    /// These nodes map `key` to `value` (or lack `key` if `None`).
    Kv(Targets, String, Option<String>),
    /// These nodes use this configuration.
    Members(Targets, MembersWanted),
    /// Every up node's log agrees with every other's.
    LogsMatch,
    /// The checker found nothing wrong.
    NoViolations,
    /// The history digest is this one (as `digest` shows it): the run so far is the
    /// one that produced it.
    Digest(u64),
    /// The checker reported a violation (of this invariant, if named). In a script it
    /// also marks those violations as expected, so the run passes.
    Violation(Option<Invariant>),
}

/// What `export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// One self-contained web page.
    Html,
    /// The page's data, as JSON.
    Json,
}

/// What `search` at the prompt asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchRequest {
    /// How many chaos seeds to try at most.
    pub seeds: u64,
    /// How many seconds the search may take, if limited.
    pub budget: Option<u64>,
    /// The invariant to look for (any, if `None`).
    pub invariant: Option<Invariant>,
    /// A file to write the counterexample's script to.
    pub out: Option<String>,
}

/// The seeds `search` tries by default.
pub const DEFAULT_SEARCH_SEEDS: u64 = 1000;

/// A parsed command line.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// A line that is one action as it stands: `tick N`, `heal`, `drop RATE`, `delay
    /// MIN[..MAX]`, `delay FROM->TO MIN[..MAX]|off`, `duplicate RATE`, `duplicate late
    /// MIN[..MAX]|off`, `unreliable on|off`, `reorder on|off`, `autosnapshot N|off`,
    /// `deliver ID`, `drop-msg ID`, `set NAME VALUE`, `break RULE`, `mend RULE|all`.
    Act(Action),
    /// `help [COMMAND]`
    Help(Option<String>),
    /// `cluster N [seed S] [log K]`
    Cluster {
        /// Number of nodes.
        nodes: usize,
        /// Its seed (derived from the session's seed if absent).
        seed: Option<u64>,
        /// How many committed entries every node starts with.
        log: u64,
    },
    /// `status`
    Status {
        /// As JSON.
        json: bool,
    },
    /// `log [NODES] [FROM..TO]`
    Log {
        /// Which nodes (all by default).
        nodes: Option<Targets>,
        /// Which indexes, inclusive (the newest that fit by default).
        range: Option<(u64, u64)>,
        /// As JSON.
        json: bool,
    },
    /// `kv [NODE]`
    Kv {
        /// Which node (the leader, else the first up node, by default).
        node: Option<Targets>,
        /// As JSON.
        json: bool,
    },
    /// `events [N] [traffic]`
    Events {
        /// How many.
        count: usize,
        /// Include messages sent and delivered (left out by default).
        traffic: bool,
        /// As JSON.
        json: bool,
    },
    /// `stats`
    Stats {
        /// As JSON.
        json: bool,
    },
    /// `messages`
    Messages {
        /// As JSON.
        json: bool,
    },
    /// `timeline [TICKS] [NODES]`
    Timeline {
        /// How many recent ticks (the default if absent).
        ticks: Option<u64>,
        /// Which nodes (all by default).
        nodes: Option<Targets>,
        /// As JSON.
        json: bool,
    },
    /// `digest`
    Digest {
        /// As JSON.
        json: bool,
    },
    /// `rules`
    Rules {
        /// As JSON.
        json: bool,
    },
    /// `search ...`
    Search(SearchRequest),
    /// `members [NODES]`
    Members {
        /// Which nodes (all members by default).
        nodes: Option<Targets>,
        /// As JSON.
        json: bool,
    },
    /// `add-node [@LEADER]`
    AddNode {
        /// The leader asked (the leader by default).
        leader: Option<Targets>,
    },
    /// `remove-node [@LEADER] NODE`
    RemoveNode {
        /// The leader asked (the leader by default).
        leader: Option<Targets>,
        /// The node to remove.
        node: Targets,
    },
    /// `submit [@NODE] TEXT`
    Submit {
        /// To whom (the leader by default).
        node: Option<Targets>,
        /// The command text.
        text: String,
    },
    /// `crash NODES`
    Crash(Targets),
    /// `restart NODES`
    Restart(Targets),
    /// `disconnect NODES`
    Disconnect(Targets),
    /// `connect NODES`
    Connect(Targets),
    /// `partition A | B | ...`
    Partition(Vec<Targets>),
    /// `snapshot NODES [at INDEX]`
    Snapshot {
        /// Which nodes.
        nodes: Targets,
        /// Where (each node's last applied index by default).
        at: Option<u64>,
    },
    /// `timeout NODES` or `tick NODES election`
    Timeout(Targets),
    /// `tick NODES heartbeat`
    Heartbeat(Targets),
    /// `flush NODES`
    Flush(Targets),
    /// `deliver all` or `deliver [from NODES] [to NODES] [type TYPE]`: every message
    /// in flight now that the filter picks, in delivery order.
    Deliver(MessageFilter),
    /// `drop-msg all` or `drop-msg [from NODES] [to NODES] [type TYPE]`.
    DropMessages(MessageFilter),
    /// `stabilize [NODES]`: deliver until nothing is in flight between these nodes
    /// (all by default), without advancing time.
    Stabilize(Option<Targets>),
    /// `progress [LEADER]`
    Progress {
        /// Which leader (the current one by default).
        leader: Option<Targets>,
        /// As JSON.
        json: bool,
    },
    /// `source FILE`: run a script's lines in this session.
    Source(String),
    /// `transfer [@LEADER] NODE`
    Transfer {
        /// The leader asked (the leader by default).
        leader: Option<Targets>,
        /// The node to take over.
        target: Targets,
    },
    /// `pause`
    Pause,
    /// `resume`
    Resume,
    /// `speed MS`
    Speed(u64),
    /// `wait ... [within N]`
    Wait {
        /// The condition.
        until: WaitFor,
        /// The limit in ticks, if given.
        within: Option<u64>,
    },
    /// `expect ...`
    Expect(Expectation),
    /// `export html|json FILE`
    Export {
        /// What to write.
        format: ExportFormat,
        /// Where.
        path: String,
    },
    /// `undo [N]`: take back the last N commands that changed the cluster.
    Undo(usize),
    /// `rewind TICKS`: go back this many ticks.
    Rewind(u64),
    /// `goto TICK`: go back to this tick.
    Goto(u64),
    /// `save FILE`: write the session as a script.
    Save(String),
    /// `quit`
    Quit,
}

impl Command {
    /// True for a view asked for as JSON (`status --json`): output for tools.
    pub fn is_json(&self) -> bool {
        match self {
            Command::Status { json }
            | Command::Log { json, .. }
            | Command::Kv { json, .. }
            | Command::Events { json, .. }
            | Command::Stats { json }
            | Command::Messages { json }
            | Command::Digest { json }
            | Command::Progress { json, .. }
            | Command::Members { json, .. } => *json,
            _ => false,
        }
    }
}

/// The largest cluster.
pub use crate::cluster::MAX_NODES;

/// The message types, as `messages` shows them and filters name them.
pub const MESSAGE_TYPES: &[&str] = &[
    "RequestVote",
    "RequestVoteReply",
    "AppendEntries",
    "AppendEntriesReply",
    "InstallSnapshot",
    "InstallSnapshotReply",
    "PreVote",
    "PreVoteReply",
    "TimeoutNow",
];

/// Which messages in flight a command picks: all of them, narrowed by sender,
/// recipient and type (`deliver from 1 to 2,3 type AppendEntries`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageFilter {
    /// Only messages from these nodes.
    pub from: Option<Targets>,
    /// Only messages to these nodes.
    pub to: Option<Targets>,
    /// Only messages of this type (one of [`MESSAGE_TYPES`]).
    pub kind: Option<&'static str>,
}

impl MessageFilter {
    /// True if the filter picks every message.
    pub fn is_all(&self) -> bool {
        *self == MessageFilter::default()
    }
}

impl std::fmt::Display for MessageFilter {
    /// The filter as typed (`from n1 to n2,n3 type AppendEntries`), or `all`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(from) = &self.from {
            parts.push(format!("from {}", targets_text(from)));
        }
        if let Some(to) = &self.to {
            parts.push(format!("to {}", targets_text(to)));
        }
        if let Some(kind) = self.kind {
            parts.push(format!("type {kind}"));
        }
        if parts.is_empty() {
            f.write_str("all")
        } else {
            f.write_str(&parts.join(" "))
        }
    }
}

/// Targets as they are typed: `n3`, `leader`, `n1,followers`.
pub fn targets_text(targets: &[Target]) -> String {
    let names: Vec<String> = targets
        .iter()
        .map(|target| match target {
            Target::Node(node) => format!("n{node}"),
            Target::Leader => "leader".to_string(),
            Target::Followers => "followers".to_string(),
            Target::All => "all".to_string(),
        })
        .collect();
    names.join(",")
}
