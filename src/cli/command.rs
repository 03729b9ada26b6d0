//! The one grammar of the playground: the [`Command`]s every line typed at the prompt
//! or found in a script becomes (the parser is in [`super::parse`]), and every
//! command's usage, summary and example in [`COMMANDS`], which `help`, completion,
//! hints and error messages all read.
//!
//! A command that changes the cluster and names everything concretely is an
//! [`Action`] as it stands ([`Command::Act`]); one that names nodes by role
//! (`crash leader`, `snapshot all`) or picks messages (`deliver all`) becomes a list
//! of actions when it runs ([`super::actions`]).

use crate::cluster::Action;
pub use crate::cluster::action::MAX_TICKS;
use crate::raft::{NodeId, Role};

/// One command of the grammar, for help and completion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandSpec {
    /// The command word.
    pub name: &'static str,
    /// Its arguments, as `help` shows them.
    pub usage: &'static str,
    /// What it does, in one line.
    pub summary: &'static str,
    /// A line that works, to copy.
    pub example: &'static str,
    /// The help section it belongs to.
    pub group: &'static str,
}

const fn spec(
    group: &'static str,
    name: &'static str,
    usage: &'static str,
    summary: &'static str,
    example: &'static str,
) -> CommandSpec {
    CommandSpec {
        name,
        usage,
        summary,
        example,
        group,
    }
}

/// Every command, in the order `help` lists them.
pub const COMMANDS: &[CommandSpec] = &[
    spec(
        "setup",
        "cluster",
        "cluster N [seed S]",
        "replace the cluster with a fresh one of N nodes (1-15)",
        "cluster 3 seed 42",
    ),
    spec(
        "views",
        "status",
        "status [--json]",
        "a table of every node: role, term, vote, leader, commit, applied, log, links",
        "status",
    ),
    spec(
        "views",
        "log",
        "log [NODES] [--json]",
        "the logs side by side, colored by term, with commit and snapshot marks",
        "log leader,3",
    ),
    spec(
        "views",
        "kv",
        "kv [NODE] [--json]",
        "a node's key-value state (the leader's by default)",
        "kv 2",
    ),
    spec(
        "views",
        "events",
        "events [N] [traffic] [--json]",
        "the last N things that happened (default 20), one per line with its tick; `traffic` adds every message sent and delivered",
        "events 50",
    ),
    spec(
        "views",
        "stats",
        "stats [--json]",
        "messages sent, dropped, delivered and duplicated, and bytes sent",
        "stats",
    ),
    spec(
        "views",
        "messages",
        "messages [--json]",
        "messages in flight with their ids, for deliver and drop-msg",
        "messages",
    ),
    spec(
        "views",
        "digest",
        "digest [--json]",
        "the history digest: equal digests mean equal runs (check a replay with expect digest)",
        "digest",
    ),
    spec(
        "client",
        "submit",
        "submit [@NODE] TEXT",
        "send a command to the leader (or to one node); `set K V` and `del K` change the kv map",
        "submit set x 1",
    ),
    spec(
        "faults",
        "crash",
        "crash NODES",
        "stop nodes: they lose everything not persisted, and their messages in flight",
        "crash leader",
    ),
    spec(
        "faults",
        "restart",
        "restart NODES",
        "start nodes again from what they persisted (crashing them first if up)",
        "restart 2",
    ),
    spec(
        "faults",
        "disconnect",
        "disconnect NODES",
        "cut nodes off from every other node",
        "disconnect 3",
    ),
    spec(
        "faults",
        "connect",
        "connect NODES",
        "restore a node's links to every connected node",
        "connect 3",
    ),
    spec(
        "faults",
        "partition",
        "partition NODES [| NODES ...]",
        "split the network into groups that cannot talk; unnamed nodes are alone",
        "partition leader | followers",
    ),
    spec(
        "faults",
        "heal",
        "heal",
        "remove every partition and reconnect every node",
        "heal",
    ),
    spec(
        "faults",
        "drop",
        "drop RATE",
        "drop each message with probability RATE (0-1 or a percentage)",
        "drop 10%",
    ),
    spec(
        "faults",
        "delay",
        "delay MIN[..MAX]",
        "message latency in ticks, uniform in MIN..MAX (default 1)",
        "delay 1..5",
    ),
    spec(
        "faults",
        "duplicate",
        "duplicate RATE",
        "deliver each message twice with probability RATE",
        "duplicate 0.05",
    ),
    spec(
        "faults",
        "unreliable",
        "unreliable on|off",
        "the lab's unreliable network: ~10% lost, up to a tick of extra delay",
        "unreliable on",
    ),
    spec(
        "faults",
        "reorder",
        "reorder on|off",
        "the lab's long reordering: ~2/3 of replies delayed 4-44 ticks",
        "reorder on",
    ),
    spec(
        "core",
        "set",
        "set NAME VALUE",
        "change a core setting on every node from the next step (help set lists them)",
        "set batch-entries 4",
    ),
    spec(
        "snapshots",
        "snapshot",
        "snapshot NODES",
        "snapshot the state machine now and compact the log behind it",
        "snapshot all",
    ),
    spec(
        "snapshots",
        "autosnapshot",
        "autosnapshot N|off",
        "every node snapshots at each multiple of N applied entries",
        "autosnapshot 10",
    ),
    spec(
        "export",
        "export",
        "export html|json FILE",
        "write the session so far as one self-contained web page (a space-time diagram with a time slider), or its data as JSON",
        "export html session.html",
    ),
    spec(
        "time",
        "pause",
        "pause",
        "stop the free-running clock (step mode)",
        "pause",
    ),
    spec(
        "time",
        "resume",
        "resume",
        "start the free-running clock again",
        "resume",
    ),
    spec(
        "time",
        "tick",
        "tick [N]",
        "advance virtual time by N ticks (default 1)",
        "tick 20",
    ),
    spec(
        "time",
        "speed",
        "speed MS",
        "real milliseconds per tick while free-running",
        "speed 50",
    ),
    spec(
        "time",
        "timeout",
        "timeout NODES",
        "make a node's election timer fire now",
        "timeout 2",
    ),
    spec(
        "time",
        "deliver",
        "deliver ID|all",
        "deliver a message in flight now, ahead of its time",
        "deliver 4",
    ),
    spec(
        "time",
        "drop-msg",
        "drop-msg ID",
        "drop one message in flight",
        "drop-msg 4",
    ),
    spec(
        "waiting",
        "wait",
        "wait leader | commit INDEX [on all|majority|N|NODES] | ticks N  [within N]",
        "advance time until the condition holds (fails after `within` ticks, default 1000)",
        "wait commit 3 on all within 100",
    ),
    spec(
        "assertions",
        "expect",
        "expect leader [NODE] | no-leader | role NODES ROLE | term|commit|snapshot|last-index NODES OP N | committed INDEX [on ...] | applied NODES INDEX | kv NODES KEY [VALUE] | logs-match | no-violations | digest HEX",
        "check the cluster; a failed expect fails a script",
        "expect role 2 follower",
    ),
    spec(
        "other",
        "help",
        "help [COMMAND]",
        "list the commands, or show one in detail",
        "help partition",
    ),
    spec(
        "other",
        "quit",
        "quit",
        "leave the playground (also: exit, Ctrl-D)",
        "quit",
    ),
];

/// The `expect` and `wait` forms, for help, completion and errors.
pub const EXPECT_FORMS: &[&str] = &[
    "leader",
    "no-leader",
    "role",
    "term",
    "commit",
    "snapshot",
    "last-index",
    "committed",
    "applied",
    "kv",
    "logs-match",
    "no-violations",
    "digest",
];

/// The `wait` forms.
pub const WAIT_FORMS: &[&str] = &["leader", "commit", "ticks"];

/// Looks up a command by name (`exit` is `quit`).
pub fn spec_of(name: &str) -> Option<&'static CommandSpec> {
    let name = if name == "exit" { "quit" } else { name };
    COMMANDS.iter().find(|spec| spec.name == name)
}

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
    /// At least this many nodes.
    AtLeast(usize),
    /// These nodes.
    Nodes(Targets),
}

/// A comparison for `expect term`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `=` or `==`
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
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// A role in `expect role`, or `down`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleOrDown {
    /// Up, in this role.
    Role(Role),
    /// Crashed.
    Down,
}

/// A number in a node's status, for `expect FIELD NODES OP N`.
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
}

impl Field {
    /// The field's name as typed.
    pub fn name(self) -> &'static str {
        match self {
            Field::Term => "term",
            Field::Commit => "commit",
            Field::Snapshot => "snapshot",
            Field::LastIndex => "last-index",
        }
    }
}

/// What `wait` waits for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WaitFor {
    /// Some up, connected node leads.
    Leader,
    /// `index` is committed on enough nodes.
    Commit {
        /// The log index.
        index: u64,
        /// On how many.
        on: Quorum,
    },
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
    /// These nodes applied through `index`.
    Applied(Targets, u64),
    /// These nodes map `key` to `value` (or lack `key` if `None`).
    Kv(Targets, String, Option<String>),
    /// Every up node's log agrees with every other's.
    LogsMatch,
    /// The checker found nothing wrong.
    NoViolations,
    /// The history digest is this one (as `digest` shows it): the run so far is the
    /// one that produced it.
    Digest(u64),
}

/// What `export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// One self-contained web page.
    Html,
    /// The page's data, as JSON.
    Json,
}

/// A parsed command line.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// A line that is one action as it stands: `tick N`, `heal`, `drop RATE`, `delay
    /// MIN[..MAX]`, `duplicate RATE`, `unreliable on|off`, `reorder on|off`,
    /// `autosnapshot N|off`, `deliver ID`, `drop-msg ID`, `set NAME VALUE`.
    Act(Action),
    /// `help [COMMAND]`
    Help(Option<String>),
    /// `cluster N [seed S]`
    Cluster {
        /// Number of nodes.
        nodes: usize,
        /// Its seed (random if absent).
        seed: Option<u64>,
    },
    /// `status`
    Status {
        /// As JSON.
        json: bool,
    },
    /// `log [NODES]`
    Log {
        /// Which nodes (all by default).
        nodes: Option<Targets>,
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
    /// `digest`
    Digest {
        /// As JSON.
        json: bool,
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
    /// `snapshot NODES`
    Snapshot(Targets),
    /// `timeout NODES`
    Timeout(Targets),
    /// `deliver all`: every message in flight now, in delivery order.
    DeliverAll,
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
    /// `quit`
    Quit,
}

/// The largest cluster.
pub const MAX_NODES: usize = 15;
