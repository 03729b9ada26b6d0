//! Every command's usage, summary and example ([`COMMANDS`]) and the words its forms
//! take ([`EXPECT_FORMS`], [`WAIT_FORMS`], [`OPERATORS`], [`PROGRESS_STATES`]),
//! and each form of `expect` and `wait` on its own ([`FORMS`]): the one table that
//! `help`, completion, hints and error messages all read, so a new command is
//! described once.

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
        "cluster N [seed S] [log K]",
        "a fresh cluster of N nodes (1-15); log K: each starts with K committed entries",
        "cluster 3 seed 42",
    ),
    spec(
        "setup",
        "source",
        "source FILE",
        "run a script's lines in this session, then come back to the prompt",
        "source demos/01-first-election.txt",
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
        "log [NODES] [FROM..TO] [--json]",
        "the logs side by side, one cell per index showing its term; FROM..TO pages",
        "log leader,3 1..20",
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
        "messages in flight with their ids and contents, for deliver and drop-msg",
        "messages",
    ),
    spec(
        "views",
        "progress",
        "progress [LEADER] [--json]",
        "a leader's view of each follower: next_index, match_index, replication state",
        "progress",
    ),
    spec(
        "views",
        "digest",
        "digest [--json]",
        "the history digest: equal digests mean equal runs (check a replay with expect digest)",
        "digest",
    ),
    spec(
        "views",
        "timeline",
        "timeline [TICKS] [NODES] [--json]",
        "a space-time diagram of the last TICKS ticks (default 30): lanes, roles, each message an arrow",
        "timeline 40 1,2,3",
    ),
    spec(
        "views",
        "members",
        "members [NODES] [--json]",
        "the configuration each node uses (voters, learners) and the entry that set it",
        "members",
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
        "delay MIN[..MAX] | delay FROM->TO MIN[..MAX]|off",
        "message latency in ticks, uniform in MIN..MAX (default 1); FROM->TO sets one direction of one link apart",
        "delay 1..5",
    ),
    spec(
        "faults",
        "duplicate",
        "duplicate RATE | duplicate late MIN[..MAX]|off",
        "deliver each message twice with probability RATE; `late` makes the copy arrive MIN..MAX ticks after",
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
        "rules",
        "rules",
        "rules [--json]",
        "the rules of the paper that can be broken on purpose, marking the broken ones",
        "rules",
    ),
    spec(
        "rules",
        "break",
        "break RULE",
        "break one rule on every node from the next step on, to see why Raft needs it",
        "break commit-old-terms",
    ),
    spec(
        "rules",
        "mend",
        "mend RULE|all",
        "follow a broken rule again (or every rule)",
        "mend all",
    ),
    spec(
        "rules",
        "search",
        "search [seeds N] [budget SECS] [for INVARIANT] [out FILE]",
        "search chaos schedules (this cluster's size, broken rules and switches) for a violation, shrink it to a short script, and load it here",
        "search seeds 500",
    ),
    spec(
        "beyond lab 3",
        "add-node",
        "add-node [@LEADER]",
        "start a new node; it joins as a learner, catches up, then the leader makes it a voter (§4.1)",
        "add-node",
    ),
    spec(
        "beyond lab 3",
        "remove-node",
        "remove-node [@LEADER] NODE",
        "the leader removes NODE from the configuration; it leaves once that commits (§4.1)",
        "remove-node 3",
    ),
    spec(
        "beyond lab 3",
        "transfer",
        "transfer [@LEADER] NODE",
        "the leader hands its leadership to NODE: catches it up, then tells it to campaign (§3.10)",
        "transfer 3",
    ),
    spec(
        "snapshots",
        "snapshot",
        "snapshot NODES [at INDEX]",
        "snapshot the state machine (at its last applied index, or INDEX) and compact the log",
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
        "tick [N] | tick NODES heartbeat|election",
        "advance virtual time by N ticks (default 1), or fire one node's timer now",
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
        "stepping",
        "deliver",
        "deliver ID|all | deliver [from NODES] [to NODES] [type TYPE]",
        "deliver messages in flight now, ahead of their time; says what each receiver decided",
        "deliver from 1 to 2,3 type AppendEntries",
    ),
    spec(
        "stepping",
        "drop-msg",
        "drop-msg ID|all | drop-msg [from NODES] [to NODES] [type TYPE]",
        "drop messages in flight",
        "drop-msg to 3",
    ),
    spec(
        "stepping",
        "stabilize",
        "stabilize [NODES]",
        "deliver until nothing is in flight (between NODES only, if given), without time passing",
        "stabilize 1,2",
    ),
    spec(
        "stepping",
        "flush",
        "flush NODES",
        "a node sends what waits for its next round (a leader's new entries) now",
        "flush leader",
    ),
    spec(
        "time travel",
        "undo",
        "undo [N]",
        "take back the last N commands that changed the cluster (default 1), with the clock's ticks after them; no redo",
        "undo 2",
    ),
    spec(
        "time travel",
        "rewind",
        "rewind TICKS",
        "go back TICKS ticks in this session, by replay; the future after it is gone (no redo)",
        "rewind 20",
    ),
    spec(
        "time travel",
        "goto",
        "goto TICK",
        "go back to an earlier tick of this session, by replay; the future after it is gone (no redo)",
        "goto 120",
    ),
    spec(
        "time travel",
        "save",
        "save FILE",
        "write this session as a script that `raft-playground run FILE` replays to the same history",
        "save session.txt",
    ),
    spec(
        "waiting",
        "wait",
        "wait CONDITION ... [within N] (`help wait` shows each condition)",
        "advance time until the condition holds (fails after `within` ticks, default 1000)",
        "wait commit 3 on all within 100",
    ),
    spec(
        "assertions",
        "expect",
        "expect CHECK ... (`help expect` shows each check)",
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
    "applied",
    "committed",
    "voted",
    "leader-known",
    "log",
    "entry",
    "progress",
    "message",
    "no-message",
    "kv",
    "logs-match",
    "members",
    "no-violations",
    "violation",
    "digest",
];

/// The `wait` forms.
pub const WAIT_FORMS: &[&str] = &[
    "leader",
    "commit",
    "role",
    "term",
    "applied",
    "snapshot",
    "last-index",
    "members",
    "ticks",
];

/// The comparison operators, as typed (`=` is also read as `==`).
pub const OPERATORS: &[&str] = &["==", "!=", "<", "<=", ">", ">="];

/// The replication states of a leader's view of a follower (`progress`).
pub const PROGRESS_STATES: &[&str] = &["probe", "replicate", "snapshot"];

/// One form of `expect` or `wait` (`expect log`, `wait term`): its own usage and
/// example, so `help expect`, the hint after `expect log ` and the error of a bad
/// `expect log` line show that form alone, not the whole grammar of checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FormSpec {
    /// The command: `expect` or `wait`.
    pub command: &'static str,
    /// The form's first word (one of [`EXPECT_FORMS`] or [`WAIT_FORMS`]).
    pub form: &'static str,
    /// Its arguments, as `help` shows them.
    pub usage: &'static str,
    /// A line that works, to copy.
    pub example: &'static str,
}

const fn form(
    command: &'static str,
    form: &'static str,
    usage: &'static str,
    example: &'static str,
) -> FormSpec {
    FormSpec {
        command,
        form,
        usage,
        example,
    }
}

/// Every form of `expect` and `wait`, in the order `help` lists them.
pub const FORMS: &[FormSpec] = &[
    form(
        "expect",
        "leader",
        "expect leader [NODE]",
        "expect leader n1",
    ),
    form(
        "expect",
        "no-leader",
        "expect no-leader",
        "expect no-leader",
    ),
    form(
        "expect",
        "role",
        "expect role NODES leader|candidate|follower|learner|down|removed",
        "expect role 2,3 follower",
    ),
    form(
        "expect",
        "term",
        "expect term NODES OP N",
        "expect term all == 2",
    ),
    form(
        "expect",
        "commit",
        "expect commit NODES OP N",
        "expect commit leader >= 3",
    ),
    form(
        "expect",
        "snapshot",
        "expect snapshot NODES OP N",
        "expect snapshot 3 == 10",
    ),
    form(
        "expect",
        "last-index",
        "expect last-index NODES OP N",
        "expect last-index 1,2 == 2",
    ),
    form(
        "expect",
        "applied",
        "expect applied NODES OP N | applied NODES INDEX (at least INDEX)",
        "expect applied 2 == 3",
    ),
    form(
        "expect",
        "committed",
        "expect committed INDEX [on all|majority|N nodes|NODES]",
        "expect committed 3 on all",
    ),
    form(
        "expect",
        "voted",
        "expect voted NODES NODE|none",
        "expect voted 2,3 1",
    ),
    form(
        "expect",
        "leader-known",
        "expect leader-known NODES NODE|none",
        "expect leader-known 3 1",
    ),
    form(
        "expect",
        "log",
        "expect log NODES = T T ... (the terms of its entries) | log NODES = empty",
        "expect log 1,2 = 1 1 2",
    ),
    form(
        "expect",
        "entry",
        "expect entry NODES INDEX TERM [COMMAND]",
        "expect entry 2 3 1 set x 1",
    ),
    form(
        "expect",
        "progress",
        "expect progress LEADER NODES probe|replicate|snapshot [match M] [next N]",
        "expect progress 1 3 replicate match 4 next 5",
    ),
    form(
        "expect",
        "message",
        "expect message FROM->TO TYPE [FIELD=VALUE ...] (in flight)",
        "expect message 1->2 AppendEntries prev_log_index=3",
    ),
    form(
        "expect",
        "no-message",
        "expect no-message [from NODES] [to NODES] [type TYPE]",
        "expect no-message to 3",
    ),
    form(
        "expect",
        "kv",
        "expect kv NODES KEY [VALUE]",
        "expect kv all x 1",
    ),
    form(
        "expect",
        "members",
        "expect members NODES = VOTERS [learners NODES]",
        "expect members all = 1,2,3 learners 4",
    ),
    form(
        "expect",
        "logs-match",
        "expect logs-match",
        "expect logs-match",
    ),
    form(
        "expect",
        "no-violations",
        "expect no-violations",
        "expect no-violations",
    ),
    form(
        "expect",
        "violation",
        "expect violation [INVARIANT]",
        "expect violation election-safety",
    ),
    form(
        "expect",
        "digest",
        "expect digest HEX",
        "expect digest 5eed1e55",
    ),
    form(
        "wait",
        "leader",
        "wait leader [new] [within N]",
        "wait leader new within 200",
    ),
    form(
        "wait",
        "commit",
        "wait commit INDEX [on all|majority|N nodes|NODES] [within N]",
        "wait commit 3 on 3 nodes",
    ),
    form(
        "wait",
        "role",
        "wait role NODES leader|candidate|follower|learner|down|removed [within N]",
        "wait role 2 leader",
    ),
    form(
        "wait",
        "term",
        "wait term [NODES] OP N [within N]",
        "wait term all >= 2",
    ),
    form(
        "wait",
        "applied",
        "wait applied [NODES] INDEX | [NODES] OP N [within N]",
        "wait applied all 3",
    ),
    form(
        "wait",
        "snapshot",
        "wait snapshot [NODES] OP N [within N]",
        "wait snapshot 3 >= 10",
    ),
    form(
        "wait",
        "last-index",
        "wait last-index [NODES] OP N [within N]",
        "wait last-index 2 == 5",
    ),
    form(
        "wait",
        "members",
        "wait members = VOTERS [learners NODES] [within N]",
        "wait members = 1,2,3,4 within 100",
    ),
    form("wait", "ticks", "wait ticks N", "wait ticks 20"),
];

/// Looks up a form of `expect` or `wait`.
pub fn form_of(command: &str, form: &str) -> Option<&'static FormSpec> {
    FORMS
        .iter()
        .find(|spec| spec.command == command && spec.form == form)
}

/// The usage and example of `name`: a command (`crash`), or a form of `expect` or
/// `wait` written as both words (`expect log`).
pub fn usage_of(name: &str) -> Option<(&'static str, &'static str)> {
    match name.split_once(' ') {
        Some((command, form)) => form_of(command, form).map(|spec| (spec.usage, spec.example)),
        None => spec_of(name).map(|spec| (spec.usage, spec.example)),
    }
}

/// Looks up a command by name (`exit` is `quit`).
pub fn spec_of(name: &str) -> Option<&'static CommandSpec> {
    let name = if name == "exit" { "quit" } else { name };
    COMMANDS.iter().find(|spec| spec.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_expect_and_wait_has_its_usage() {
        for (command, forms) in [("expect", EXPECT_FORMS), ("wait", WAIT_FORMS)] {
            for word in forms {
                let spec = form_of(command, word)
                    .unwrap_or_else(|| panic!("`{command} {word}` has no entry in FORMS"));
                assert!(spec.usage.starts_with(&format!("{command} {word}")));
                assert!(spec.example.starts_with(&format!("{command} {word}")));
            }
        }
        for spec in FORMS {
            let forms = if spec.command == "expect" {
                EXPECT_FORMS
            } else {
                WAIT_FORMS
            };
            assert!(forms.contains(&spec.form), "{spec:?} is not a known form");
        }
        assert_eq!(usage_of("expect log").unwrap().1, "expect log 1,2 = 1 1 2");
        assert_eq!(usage_of("crash").unwrap().0, "crash NODES");
        assert_eq!(usage_of("expect nonsense"), None);
    }
}
