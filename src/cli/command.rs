//! The one grammar of the playground: every line typed at the prompt or found in a
//! script parses into a [`Command`] here, and every command's usage, summary and
//! example lives in [`COMMANDS`], which `help`, completion, hints and error messages
//! all read.

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
        "events [N] [--json]",
        "the last N things that happened (default 20), one per line with its tick",
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
        "partition NODES | NODES [| ...]",
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
        "expect leader [NODE] | no-leader | role NODES ROLE | term|commit|snapshot|last-index NODES OP N | committed INDEX [on ...] | applied NODES INDEX | kv NODES KEY [VALUE] | logs-match | no-violations",
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
}

/// Which message `deliver` delivers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// The message with this id.
    Id(u64),
    /// Every message in flight.
    All,
}

/// A parsed command line.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
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
    /// `events [N]`
    Events {
        /// How many.
        count: usize,
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
    /// `heal`
    Heal,
    /// `drop RATE`
    Drop(f64),
    /// `delay MIN[..MAX]`
    Delay(u64, u64),
    /// `duplicate RATE`
    Duplicate(f64),
    /// `unreliable on|off`
    Unreliable(bool),
    /// `reorder on|off`
    Reorder(bool),
    /// `snapshot NODES`
    Snapshot(Targets),
    /// `autosnapshot N|off`
    AutoSnapshot(Option<u64>),
    /// `pause`
    Pause,
    /// `resume`
    Resume,
    /// `tick [N]`
    Tick(u64),
    /// `speed MS`
    Speed(u64),
    /// `timeout NODES`
    Timeout(Targets),
    /// `deliver ID|all`
    Deliver(Which),
    /// `drop-msg ID`
    DropMessage(u64),
    /// `wait ... [within N]`
    Wait {
        /// The condition.
        until: WaitFor,
        /// The limit in ticks, if given.
        within: Option<u64>,
    },
    /// `expect ...`
    Expect(Expectation),
    /// `quit`
    Quit,
}

/// The largest cluster.
pub const MAX_NODES: usize = 15;
/// The most ticks one `tick` or `wait` may take.
pub const MAX_TICKS: u64 = 10_000_000;

/// A line that does not parse, with a message that says what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

/// Builds the error for a command used wrongly: what was wrong, then its usage.
fn usage(name: &str, problem: impl std::fmt::Display) -> ParseError {
    let spec = spec_of(name).expect("every parsed command has a spec");
    ParseError(format!(
        "{name}: {problem} (usage: {}, e.g. `{}`)",
        spec.usage, spec.example
    ))
}

/// Parses one line. Blank lines and `#` comments are `Ok(None)`.
pub fn parse(line: &str) -> Result<Option<Command>, ParseError> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    if line.chars().any(|c| c.is_control() && c != '\t') {
        return Err(ParseError(
            "the line contains control characters; type plain text (help lists the commands)"
                .into(),
        ));
    }
    let (name, rest) = split_word(line);
    let mut words: Vec<&str> = rest.split_whitespace().collect();
    let json = take_flag(&mut words, "--json");
    let command = match name {
        "help" | "?" => Command::Help(one_optional(name, &words)?.map(str::to_string)),
        "cluster" => parse_cluster(&words)?,
        "status" => view(name, &words, Command::Status { json })?,
        "stats" => view(name, &words, Command::Stats { json })?,
        "messages" => view(name, &words, Command::Messages { json })?,
        "log" => Command::Log {
            nodes: one_optional(name, &words)?
                .map(|text| parse_targets(name, text))
                .transpose()?,
            json,
        },
        "kv" => Command::Kv {
            node: one_optional(name, &words)?
                .map(|text| parse_targets(name, text))
                .transpose()?,
            json,
        },
        "events" => Command::Events {
            count: match one_optional(name, &words)? {
                Some(text) => parse_number(name, text, "a count of events")?.min(100_000) as usize,
                None => 20,
            },
            json,
        },
        _ if json => {
            return Err(ParseError(format!(
                "{name}: --json is for views (status, log, kv, events, stats, messages)"
            )));
        }
        "submit" => parse_submit(rest)?,
        "crash" => Command::Crash(one_targets(name, &words)?),
        "restart" => Command::Restart(one_targets(name, &words)?),
        "disconnect" => Command::Disconnect(one_targets(name, &words)?),
        "connect" => Command::Connect(one_targets(name, &words)?),
        "snapshot" => Command::Snapshot(one_targets(name, &words)?),
        "timeout" => Command::Timeout(one_targets(name, &words)?),
        "partition" => parse_partition(rest)?,
        "heal" => none(name, &words, Command::Heal)?,
        "drop" => Command::Drop(parse_rate(name, one(name, &words)?)?),
        "duplicate" => Command::Duplicate(parse_rate(name, one(name, &words)?)?),
        "delay" => {
            let (min, max) = parse_range(name, one(name, &words)?)?;
            Command::Delay(min, max)
        }
        "unreliable" => Command::Unreliable(parse_switch(name, one(name, &words)?)?),
        "reorder" => Command::Reorder(parse_switch(name, one(name, &words)?)?),
        "autosnapshot" => Command::AutoSnapshot(match one(name, &words)? {
            "off" => None,
            text => match parse_number(name, text, "a number of entries or `off`")? {
                0 => return Err(usage(name, "the interval must be at least 1 (or `off`)")),
                every => Some(every),
            },
        }),
        "pause" => none(name, &words, Command::Pause)?,
        "resume" => none(name, &words, Command::Resume)?,
        "tick" => Command::Tick(match one_optional(name, &words)? {
            Some(text) => parse_ticks(name, text)?,
            None => 1,
        }),
        "speed" => {
            let ms = parse_number(name, one(name, &words)?, "milliseconds per tick")?;
            if !(1..=60_000).contains(&ms) {
                return Err(usage(
                    name,
                    format!("milliseconds per tick must be 1 to 60000, not {ms}"),
                ));
            }
            Command::Speed(ms)
        }
        "deliver" => Command::Deliver(match one(name, &words)? {
            "all" => Which::All,
            text => Which::Id(parse_number(
                name,
                text,
                "a message id (see `messages`) or `all`",
            )?),
        }),
        "drop-msg" => Command::DropMessage(parse_number(
            name,
            one(name, &words)?,
            "a message id (see `messages`)",
        )?),
        "wait" => parse_wait(&words)?,
        "expect" => Command::Expect(parse_expect(rest)?),
        "quit" | "exit" => none(name, &words, Command::Quit)?,
        _ => return Err(unknown_command(name)),
    };
    Ok(Some(command))
}

/// The error for a word that is no command, suggesting the closest one.
fn unknown_command(name: &str) -> ParseError {
    let closest = COMMANDS
        .iter()
        .map(|spec| (edit_distance(name, spec.name), spec.name))
        .min()
        .filter(|&(distance, _)| distance <= 2);
    let shown: String = name.chars().take(40).collect();
    match closest {
        Some((_, suggestion)) => ParseError(format!(
            "unknown command `{shown}`; did you mean `{suggestion}`? (help lists them all)"
        )),
        None => ParseError(format!("unknown command `{shown}` (help lists them all)")),
    }
}

/// Levenshtein distance, for suggestions.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            current.push(
                (previous[j] + cost)
                    .min(previous[j + 1] + 1)
                    .min(current[j] + 1),
            );
        }
        previous = current;
    }
    previous[b.len()]
}

/// Splits off the first word; the rest keeps its inner spacing.
fn split_word(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    match text.find(char::is_whitespace) {
        Some(end) => (&text[..end], text[end..].trim_start()),
        None => (text, ""),
    }
}

/// Removes `flag` from `words`, saying whether it was there.
fn take_flag(words: &mut Vec<&str>, flag: &str) -> bool {
    let before = words.len();
    words.retain(|word| *word != flag);
    words.len() != before
}

fn none(name: &str, words: &[&str], command: Command) -> Result<Command, ParseError> {
    match words {
        [] => Ok(command),
        [extra, ..] => Err(usage(name, format!("unexpected `{extra}`"))),
    }
}

fn view(name: &str, words: &[&str], command: Command) -> Result<Command, ParseError> {
    none(name, words, command)
}

fn one<'a>(name: &str, words: &[&'a str]) -> Result<&'a str, ParseError> {
    match words {
        [word] => Ok(word),
        [] => Err(usage(name, "missing argument")),
        [_, extra, ..] => Err(usage(name, format!("unexpected `{extra}`"))),
    }
}

fn one_optional<'a>(name: &str, words: &[&'a str]) -> Result<Option<&'a str>, ParseError> {
    match words {
        [] => Ok(None),
        [word] => Ok(Some(word)),
        [_, extra, ..] => Err(usage(name, format!("unexpected `{extra}`"))),
    }
}

fn one_targets(name: &str, words: &[&str]) -> Result<Targets, ParseError> {
    parse_targets(name, one(name, words)?)
}

/// Parses a number, with an error that says what it was for.
fn parse_number(name: &str, text: &str, what: &str) -> Result<u64, ParseError> {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_digit()) {
        text.parse::<u64>()
            .map_err(|_| usage(name, format!("`{text}` is too large for {what}")))
    } else {
        Err(usage(
            name,
            format!("expected {what}, got `{}`", shorten(text)),
        ))
    }
}

/// A tick count: 1 to [`MAX_TICKS`].
fn parse_ticks(name: &str, text: &str) -> Result<u64, ParseError> {
    let ticks = parse_number(name, text, "a number of ticks")?;
    if (1..=MAX_TICKS).contains(&ticks) {
        Ok(ticks)
    } else {
        Err(usage(
            name,
            format!("ticks must be 1 to {MAX_TICKS}, not {ticks}"),
        ))
    }
}

/// Cuts long junk short for error messages.
fn shorten(text: &str) -> String {
    let mut short: String = text.chars().take(24).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

/// One target: `3`, `n3`, `leader`, `followers`, `all`.
pub fn parse_target(text: &str) -> Option<Target> {
    match text {
        "leader" => Some(Target::Leader),
        "followers" => Some(Target::Followers),
        "all" => Some(Target::All),
        _ => {
            let digits = text.strip_prefix('n').unwrap_or(text);
            if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) || digits.len() > 6
            {
                return None;
            }
            digits.parse().ok().map(Target::Node)
        }
    }
}

/// A comma-separated list of targets.
fn parse_targets(name: &str, text: &str) -> Result<Targets, ParseError> {
    text.split(',')
        .map(|part| {
            parse_target(part.trim()).ok_or_else(|| {
                usage(
                    name,
                    format!(
                        "expected a node (3 or n3), leader, followers or all, got `{}`",
                        shorten(part)
                    ),
                )
            })
        })
        .collect()
}

fn parse_cluster(words: &[&str]) -> Result<Command, ParseError> {
    let name = "cluster";
    let (count, seed) = match words {
        [count] => (count, None),
        [count, "seed", seed] => (count, Some(parse_number(name, seed, "a seed")?)),
        [_, "seed"] => return Err(usage(name, "missing the seed after `seed`")),
        [_, extra, ..] => return Err(usage(name, format!("unexpected `{extra}`"))),
        [] => return Err(usage(name, "missing the number of nodes")),
    };
    let nodes = parse_number(name, count, "a number of nodes")?;
    if !(1..=MAX_NODES as u64).contains(&nodes) {
        return Err(usage(
            name,
            format!("a cluster has 1 to {MAX_NODES} nodes, not {nodes}"),
        ));
    }
    Ok(Command::Cluster {
        nodes: nodes as usize,
        seed,
    })
}

fn parse_submit(rest: &str) -> Result<Command, ParseError> {
    let name = "submit";
    let (node, text) = match rest.strip_prefix('@') {
        Some(after) => {
            let (target, text) = split_word(after);
            (Some(parse_targets(name, target)?), text)
        }
        None => (None, rest),
    };
    if text.trim().is_empty() {
        return Err(usage(name, "missing the command text"));
    }
    Ok(Command::Submit {
        node,
        text: text.trim().to_string(),
    })
}

fn parse_partition(rest: &str) -> Result<Command, ParseError> {
    let name = "partition";
    if !rest.contains('|') {
        return Err(usage(name, "expected groups separated by `|`"));
    }
    let groups = rest
        .split('|')
        .map(|group| {
            let group: String = group.split_whitespace().collect::<Vec<_>>().join("");
            if group.is_empty() {
                Err(usage(name, "a group is empty"))
            } else {
                parse_targets(name, &group)
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Command::Partition(groups))
}

/// A probability: `0.1`, `.1`, `10%`, `0`, `1`.
fn parse_rate(name: &str, text: &str) -> Result<f64, ParseError> {
    let (number, scale) = match text.strip_suffix('%') {
        Some(number) => (number, 100.0),
        None => (text, 1.0),
    };
    let valid = !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit() || c == '.')
        && number.chars().filter(|&c| c == '.').count() <= 1
        && number != ".";
    let rate = valid
        .then(|| number.parse::<f64>().ok())
        .flatten()
        .map(|value| value / scale)
        .filter(|rate| (0.0..=1.0).contains(rate));
    rate.ok_or_else(|| {
        usage(
            name,
            format!(
                "expected a rate between 0 and 1 (like 0.1 or 10%), got `{}`",
                shorten(text)
            ),
        )
    })
}

/// `MIN` or `MIN..MAX` ticks.
fn parse_range(name: &str, text: &str) -> Result<(u64, u64), ParseError> {
    let (min, max) = match text.split_once("..") {
        Some((min, max)) => (min, max),
        None => (text, text),
    };
    let what = "ticks of latency (a number, at least 1)";
    let min = parse_number(name, min, what)?;
    let max = parse_number(name, max, what)?;
    if min == 0 || max < min || max > 1_000_000 {
        return Err(usage(
            name,
            format!("latency must be 1 ≤ MIN ≤ MAX ≤ 1000000 ticks, not {min}..{max}"),
        ));
    }
    Ok((min, max))
}

fn parse_switch(name: &str, text: &str) -> Result<bool, ParseError> {
    match text {
        "on" => Ok(true),
        "off" => Ok(false),
        other => Err(usage(
            name,
            format!("expected on or off, got `{}`", shorten(other)),
        )),
    }
}

/// Splits `within N` off the end of a wait's words.
fn split_within<'a>(
    name: &str,
    words: &'a [&'a str],
) -> Result<(&'a [&'a str], Option<u64>), ParseError> {
    match words {
        [head @ .., "within", limit] => Ok((head, Some(parse_ticks(name, limit)?))),
        [.., "within"] => Err(usage(name, "missing the number of ticks after `within`")),
        _ => Ok((words, None)),
    }
}

/// `on all|majority|N|NODES`, or nothing (majority).
fn parse_quorum(name: &str, words: &[&str]) -> Result<Quorum, ParseError> {
    match words {
        [] => Ok(Quorum::Majority),
        ["on", "all"] => Ok(Quorum::All),
        ["on", "majority"] => Ok(Quorum::Majority),
        ["on", spec] if spec.chars().all(|c| c.is_ascii_digit()) => {
            let count = parse_number(name, spec, "a number of nodes")?;
            if count == 0 || count > MAX_NODES as u64 {
                return Err(usage(
                    name,
                    format!("a node count is 1 to {MAX_NODES}, not {count}"),
                ));
            }
            Ok(Quorum::AtLeast(count as usize))
        }
        ["on", spec] => Ok(Quorum::Nodes(parse_targets(name, spec)?)),
        ["on"] => Err(usage(
            name,
            "missing what follows `on` (all, majority, a count or nodes)",
        )),
        [extra, ..] => Err(usage(name, format!("unexpected `{extra}`"))),
    }
}

fn parse_wait(words: &[&str]) -> Result<Command, ParseError> {
    let name = "wait";
    let (words, within) = split_within(name, words)?;
    let until = match words {
        ["leader"] => WaitFor::Leader,
        ["commit", index, rest @ ..] => WaitFor::Commit {
            index: parse_number(name, index, "a log index")?,
            on: parse_quorum(name, rest)?,
        },
        ["ticks", count] => WaitFor::Ticks(parse_ticks(name, count)?),
        [form, ..] if WAIT_FORMS.contains(form) => {
            return Err(usage(name, format!("wrong arguments for `wait {form}`")));
        }
        [form, ..] => {
            return Err(usage(
                name,
                format!("expected leader, commit or ticks, got `{}`", shorten(form)),
            ));
        }
        [] => return Err(usage(name, "missing what to wait for")),
    };
    Ok(Command::Wait { until, within })
}

fn parse_role(name: &str, text: &str) -> Result<RoleOrDown, ParseError> {
    match text {
        "leader" => Ok(RoleOrDown::Role(Role::Leader)),
        "candidate" => Ok(RoleOrDown::Role(Role::Candidate)),
        "follower" => Ok(RoleOrDown::Role(Role::Follower)),
        "down" => Ok(RoleOrDown::Down),
        other => Err(usage(
            name,
            format!(
                "expected leader, candidate, follower or down, got `{}`",
                shorten(other)
            ),
        )),
    }
}

fn parse_op(name: &str, text: &str) -> Result<Op, ParseError> {
    match text {
        "=" | "==" => Ok(Op::Eq),
        "!=" => Ok(Op::Ne),
        "<" => Ok(Op::Lt),
        "<=" => Ok(Op::Le),
        ">" => Ok(Op::Gt),
        ">=" => Ok(Op::Ge),
        other => Err(usage(
            name,
            format!("expected one of = != < <= > >=, got `{}`", shorten(other)),
        )),
    }
}

fn parse_expect(rest: &str) -> Result<Expectation, ParseError> {
    let name = "expect";
    let words: Vec<&str> = rest.split_whitespace().collect();
    let expectation = match words.as_slice() {
        ["leader"] => Expectation::Leader(None),
        ["leader", node] => Expectation::Leader(Some(parse_targets(name, node)?)),
        ["no-leader"] => Expectation::NoLeader,
        ["role", nodes, role] => {
            Expectation::Role(parse_targets(name, nodes)?, parse_role(name, role)?)
        }
        [
            field @ ("term" | "commit" | "snapshot" | "last-index"),
            nodes,
            op,
            value,
        ] => {
            let field = match *field {
                "term" => Field::Term,
                "commit" => Field::Commit,
                "snapshot" => Field::Snapshot,
                _ => Field::LastIndex,
            };
            Expectation::Field(
                field,
                parse_targets(name, nodes)?,
                parse_op(name, op)?,
                parse_number(name, value, "a number")?,
            )
        }
        ["committed", index, rest @ ..] => Expectation::Committed(
            parse_number(name, index, "a log index")?,
            parse_quorum(name, rest)?,
        ),
        ["applied", nodes, index] => Expectation::Applied(
            parse_targets(name, nodes)?,
            parse_number(name, index, "a log index")?,
        ),
        ["kv", nodes, key, ..] => {
            // The value is the rest of the line, spaces included.
            let after_nodes = split_word(split_word(rest).1).1;
            let value = split_word(after_nodes).1.trim();
            Expectation::Kv(
                parse_targets(name, nodes)?,
                key.to_string(),
                (!value.is_empty()).then(|| value.to_string()),
            )
        }
        ["logs-match"] => Expectation::LogsMatch,
        ["no-violations"] => Expectation::NoViolations,
        [form, ..] if EXPECT_FORMS.contains(form) => {
            return Err(usage(name, format!("wrong arguments for `expect {form}`")));
        }
        [form, ..] => {
            return Err(usage(
                name,
                format!(
                    "expected one of {}, got `{}`",
                    EXPECT_FORMS.join(", "),
                    shorten(form)
                ),
            ));
        }
        [] => return Err(usage(name, "missing what to expect")),
    };
    Ok(expectation)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &str) -> Command {
        parse(line)
            .unwrap_or_else(|error| panic!("{line}: {error}"))
            .unwrap()
    }

    fn err(line: &str) -> String {
        parse(line).expect_err(line).0
    }

    #[test]
    fn parses_every_example() {
        for spec in COMMANDS {
            assert!(
                parse(spec.example).is_ok(),
                "{}: {:?}",
                spec.example,
                parse(spec.example)
            );
        }
    }

    #[test]
    fn targets_and_lists() {
        assert_eq!(ok("crash 3"), Command::Crash(vec![Target::Node(3)]));
        assert_eq!(
            ok("crash n3,leader"),
            Command::Crash(vec![Target::Node(3), Target::Leader])
        );
        assert_eq!(
            ok("partition leader | followers"),
            Command::Partition(vec![vec![Target::Leader], vec![Target::Followers]])
        );
        assert_eq!(
            ok("partition 1, 2 | 3,4,5"),
            Command::Partition(vec![
                vec![Target::Node(1), Target::Node(2)],
                vec![Target::Node(3), Target::Node(4), Target::Node(5)]
            ])
        );
        assert!(err("crash x").contains("expected a node"));
        assert!(err("partition 1 2").contains("`|`"));
    }

    #[test]
    fn submit_keeps_the_text() {
        assert_eq!(
            ok("submit set x  hello world"),
            Command::Submit {
                node: None,
                text: "set x  hello world".into()
            }
        );
        assert_eq!(
            ok("submit @n2 del x"),
            Command::Submit {
                node: Some(vec![Target::Node(2)]),
                text: "del x".into()
            }
        );
        assert!(err("submit").contains("missing"));
        assert!(err("submit @2").contains("missing"));
    }

    #[test]
    fn rates_ranges_and_numbers() {
        assert_eq!(ok("drop 10%"), Command::Drop(0.1));
        assert_eq!(ok("drop .5"), Command::Drop(0.5));
        assert_eq!(ok("duplicate 1"), Command::Duplicate(1.0));
        assert!(err("drop 7").contains("between 0 and 1"));
        assert!(err("drop -1").contains("between 0 and 1"));
        assert!(err("drop NaN").contains("between 0 and 1"));
        assert_eq!(ok("delay 3"), Command::Delay(3, 3));
        assert_eq!(ok("delay 1..4"), Command::Delay(1, 4));
        assert!(err("delay 4..1").contains("MIN ≤ MAX"));
        assert!(err("delay 0").contains("1 ≤ MIN"));
        assert!(err("tick 99999999999999999999999").contains("too large"));
        assert!(err("tick 0").contains("1 to"));
    }

    #[test]
    fn waits_and_expectations() {
        assert_eq!(
            ok("wait leader within 50"),
            Command::Wait {
                until: WaitFor::Leader,
                within: Some(50)
            }
        );
        assert_eq!(
            ok("wait commit 3 on all"),
            Command::Wait {
                until: WaitFor::Commit {
                    index: 3,
                    on: Quorum::All
                },
                within: None
            }
        );
        assert_eq!(
            ok("expect committed 2 on 1,2"),
            Command::Expect(Expectation::Committed(
                2,
                Quorum::Nodes(vec![Target::Node(1), Target::Node(2)])
            ))
        );
        assert_eq!(
            ok("expect term all >= 2"),
            Command::Expect(Expectation::Field(
                Field::Term,
                vec![Target::All],
                Op::Ge,
                2
            ))
        );
        assert_eq!(
            ok("expect kv 1 greeting hello  world"),
            Command::Expect(Expectation::Kv(
                vec![Target::Node(1)],
                "greeting".into(),
                Some("hello  world".into())
            ))
        );
        assert_eq!(
            ok("expect kv 1 gone"),
            Command::Expect(Expectation::Kv(vec![Target::Node(1)], "gone".into(), None))
        );
        assert!(err("expect role 1 king").contains("leader, candidate"));
        assert!(err("wait forever").contains("leader, commit or ticks"));
        assert!(err("expect").contains("missing"));
    }

    #[test]
    fn unknown_commands_get_suggestions() {
        assert!(err("partiton 1 | 2").contains("did you mean `partition`"));
        assert!(err("xyzzy").contains("unknown command"));
        assert!(err("status --json extra").contains("unexpected"));
        assert!(err("crash 1 --json").contains("--json is for views"));
    }
}
