//! Turning cluster data into text for people (colored when color is on) and JSON for
//! tools. Both come from the same values: each view gathers a serializable value and
//! renders it either way.

use std::collections::BTreeMap;

use colored::{ColoredString, Colorize};
use serde::Serialize;

use crate::cluster::NodeStatus;
use crate::cluster::router::{InFlight, Stats};
use crate::cluster::trace::{TraceEvent, TraceKind};
use crate::raft::{
    AppendOutcome, Event, Feature, Index, Membership, Message, MessageInfo, NodeId, Role, Term,
};

/// A role, colored: leader green (with the node it hands over to, if it does),
/// candidate yellow (`pre-candidate` while it asks for pre-votes), follower plain,
/// down red, removed dim, a follower outside the voters cyan.
pub fn role(status: &NodeStatus) -> ColoredString {
    let word = role_word(status);
    match word {
        "removed" => word.dimmed(),
        "down" => word.red().bold(),
        "leader" => match status.transferring_to {
            Some(target) => format!("leader → n{target}").green().bold(),
            None => word.green().bold(),
        },
        "candidate" if status.pre_candidate => "pre-candidate".yellow(),
        "candidate" => word.yellow().bold(),
        "follower" => word.normal(),
        // learner, joining, leaving, outside
        _ => word.cyan(),
    }
}

/// A node's role in one plain word, as every view names it: `leader`, `candidate`,
/// `follower`, `learner`, `joining` (added, not told yet), `leaving` (its own log
/// holds its removal, not committed yet), `outside` (the entry adding it was lost
/// from every log), `down` or `removed`.
pub fn role_word(status: &NodeStatus) -> &'static str {
    if status.removed {
        return "removed";
    }
    if !status.up {
        return "down";
    }
    match (status.role, status.membership) {
        (Role::Leader, _) => "leader",
        (Role::Candidate, _) => "candidate",
        (Role::Follower, Membership::Voter) => "follower",
        (Role::Follower, Membership::Learner) => "learner",
        // Its own configuration leaves it out.
        (Role::Follower, Membership::Outside) if status.configuration_index > 0 => "leaving",
        (Role::Follower, Membership::Outside) if status.in_no_configuration => "outside",
        (Role::Follower, Membership::Outside) => "joining",
    }
}

/// `text`'s words in lines of at most `first` columns for the first line and `rest`
/// for the others (a word wider than its line gets a line of its own). Plain text in,
/// plain lines out: style each line after wrapping, so no escape spans two lines.
pub fn wrap_words(text: &str, first: usize, rest: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|word| !word.is_empty()) {
        let limit = if lines.is_empty() { first } else { rest };
        if !line.is_empty() && visible_width(&line) + 1 + visible_width(word) > limit {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

/// A node's name, colored by its role.
pub fn node_name(status: &NodeStatus) -> ColoredString {
    let name = format!("n{}", status.id);
    if !status.up {
        return name.red();
    }
    match status.role {
        Role::Leader => name.green().bold(),
        Role::Candidate => name.yellow(),
        Role::Follower => name.normal(),
    }
}

/// Text in a term's color (terms cycle through six colors, so neighbours differ).
pub fn in_term_color(term: Term, text: &str) -> ColoredString {
    match term % 6 {
        0 => text.white(),
        1 => text.blue(),
        2 => text.magenta(),
        3 => text.cyan(),
        4 => text.yellow(),
        _ => text.green(),
    }
}

/// The width text takes on a terminal: ANSI color codes take none, and wide
/// characters (CJK, most emoji) take two columns (Unicode East Asian Width).
pub fn visible_width(text: &str) -> usize {
    use unicode_width::UnicodeWidthChar;
    let mut width = 0;
    let mut in_escape = false;
    for c in text.chars() {
        match (in_escape, c) {
            (false, '\u{1b}') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, _) => width += c.width().unwrap_or(0),
        }
    }
    width
}

/// Lays out rows under a bold header, each column as wide as its widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|title| title.chars().count()).collect();
    for row in rows {
        for (column, cell) in row.iter().enumerate() {
            widths[column] = widths[column].max(visible_width(cell));
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .into_iter()
            .enumerate()
            .map(|(column, cell)| {
                let pad = widths[column] - visible_width(&cell);
                format!("{cell}{}", " ".repeat(pad))
            })
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut lines = vec![line(
        header
            .iter()
            .map(|title| title.bold().to_string())
            .collect(),
    )];
    lines.extend(rows.iter().map(|row| line(row.clone())));
    lines.join("\n")
}

/// What the `status` view shows of one node.
#[derive(Debug, Serialize)]
pub struct StatusRow {
    /// The node's status.
    #[serde(flatten)]
    pub status: NodeStatus,
    /// The nodes it can exchange messages with.
    pub links: Vec<NodeId>,
}

/// The `members` view: the configuration each node uses, and the entry that set it.
pub fn members_table(rows: &[NodeStatus]) -> String {
    let list = |ids: &std::collections::BTreeSet<NodeId>| {
        if ids.is_empty() {
            "-".to_string()
        } else {
            ids.iter()
                .map(|id| id.to_string())
                .collect::<Vec<_>>()
                .join(",")
        }
    };
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|status| {
            vec![
                node_name(status).to_string(),
                role(status).to_string(),
                list(&status.configuration.voters),
                list(&status.configuration.learners).cyan().to_string(),
                if status.configuration_index == 0 {
                    "founding".dimmed().to_string()
                } else {
                    status.configuration_index.to_string()
                },
            ]
        })
        .collect();
    table(
        &["node", "role", "voters", "learners", "set by entry"],
        &body,
    )
}

/// The line `status` shows above its table when mechanisms beyond Lab 3 are on
/// (`switches on: pre-vote, check-quorum`); none when every switch is off.
pub fn switches_line(switches: &[Feature]) -> Option<String> {
    if switches.is_empty() {
        return None;
    }
    let names: Vec<&str> = switches.iter().map(|feature| feature.name()).collect();
    Some(format!("switches on: {}", names.join(", ").cyan()))
}

/// The links of a node in a few characters: `all`, `cut off` (disconnected),
/// `none`, the nodes it reaches (`n1,n2`), or, when shorter, the ones it does not
/// (`all but n4,n5`).
fn links_text(row: &StatusRow, size: usize) -> String {
    let status = &row.status;
    if !status.connected {
        return "cut off".red().to_string();
    }
    if row.links.len() + 1 == size {
        return "all".to_string();
    }
    if row.links.is_empty() {
        return "none".red().to_string();
    }
    let list = |ids: &mut dyn Iterator<Item = NodeId>| {
        ids.map(|id| format!("n{id}")).collect::<Vec<_>>().join(",")
    };
    let reached = list(&mut row.links.iter().copied());
    let missed = format!(
        "all but {}",
        list(&mut (1..=size).filter(|&id| id != status.id && !row.links.contains(&id)))
    );
    let shorter = if missed.len() < reached.len() {
        missed
    } else {
        reached
    };
    shorter.yellow().to_string()
}

/// Who a node voted for; for a candidate, its tally (`2 of 3`: votes held, votes
/// needed).
fn vote_text(status: &NodeStatus, size: usize) -> String {
    match &status.votes {
        Some(votes) if status.up => format!("{} of {}", votes.len(), size / 2 + 1)
            .yellow()
            .to_string(),
        _ => status.voted_for.map_or("-".into(), |id| format!("n{id}")),
    }
}

/// The `status` table, at most `width` columns wide when it can be: the `snap` and
/// `applied` columns go first when space is short (every log cell shows the
/// snapshot too: `log` starts after it).
pub fn status_table(rows: &[StatusRow], now: u64, paused: Option<bool>, width: usize) -> String {
    let size = rows.len();
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let status = &row.status;
            // When its timer fires: an election timeout, or a leader's next heartbeat.
            let timer = match status.timer_due {
                Some(due) if status.role == Role::Leader => {
                    format!("hb {}", due.saturating_sub(now))
                }
                Some(due) => format!("in {}", due.saturating_sub(now)),
                None => "-".to_string(),
            };
            vec![
                node_name(status).to_string(),
                role(status).to_string(),
                in_term_color(status.term, &status.term.to_string()).to_string(),
                vote_text(status, size),
                status.leader.map_or("-".into(), |id| format!("n{id}")),
                status.commit_index.to_string(),
                status.last_applied.to_string(),
                format!("{}@t{}", status.last_log_index, status.last_log_term),
                status.snapshot_index.to_string(),
                timer,
                links_text(row, size),
            ]
        })
        .collect();
    let header = [
        "node", "role", "term", "voted", "leader", "commit", "applied", "log", "snap", "timer",
        "links",
    ];
    let clock = match paused {
        Some(true) => format!("tick {now} (paused)"),
        Some(false) => format!("tick {now} (running)"),
        None => format!("tick {now}"),
    };
    // Drop optional columns, least needed first, until the table fits.
    let mut keep: Vec<usize> = (0..header.len()).collect();
    let mut text = table_of(&header, &body, &keep);
    for optional in [8, 6] {
        let widest = text.lines().map(visible_width).max().unwrap_or(0);
        if widest <= width {
            break;
        }
        keep.retain(|&column| column != optional);
        text = table_of(&header, &body, &keep);
    }
    format!("{}\n{text}", clock.dimmed())
}

/// A table of the columns `keep` of `header` and `rows`.
fn table_of(header: &[&str], rows: &[Vec<String>], keep: &[usize]) -> String {
    let header: Vec<&str> = keep.iter().map(|&column| header[column]).collect();
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| keep.iter().map(|&column| row[column].clone()).collect())
        .collect();
    table(&header, &rows)
}

/// The `kv` view.
pub fn kv_view(node: NodeId, applied: Index, entries: &BTreeMap<String, String>) -> String {
    let title = format!("n{node}'s state machine, through index {applied}");
    if entries.is_empty() {
        return format!("{}\n{}", title.dimmed(), "(empty)".dimmed());
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|(key, value)| vec![key.clone(), value.clone()])
        .collect();
    format!("{}\n{}", title.dimmed(), table(&["key", "value"], &rows))
}

/// The `stats` view.
pub fn stats_view(stats: &Stats, in_flight: usize) -> String {
    let rows = vec![
        vec!["messages sent".to_string(), stats.messages_sent.to_string()],
        vec![
            "delivered".to_string(),
            stats.messages_delivered.to_string(),
        ],
        vec!["dropped".to_string(), stats.messages_dropped.to_string()],
        vec![
            "duplicated".to_string(),
            stats.messages_duplicated.to_string(),
        ],
        vec!["in flight".to_string(), in_flight.to_string()],
        vec!["bytes sent".to_string(), stats.bytes_sent.to_string()],
    ];
    table(&["counter", "value"], &rows)
}

/// A message's content in a few words: what [`info_summary`] says, and the
/// entries an AppendEntries carries, with their terms and commands.
pub fn message_summary(message: &Message) -> String {
    let summary = info_summary(&message.info());
    match message {
        Message::AppendEntries { entries, .. } if !entries.is_empty() => {
            match summary.split_once(", prev") {
                Some((what, rest)) => format!("{what} [{}], prev{rest}", entries_text(entries)),
                None => summary,
            }
        }
        _ => summary,
    }
}

/// What a message says in a few words, from its payload-free [`MessageInfo`].
pub fn info_summary(info: &MessageInfo) -> String {
    match *info {
        MessageInfo::RequestVote {
            last_log_index,
            last_log_term,
        } => format!("last log {last_log_index}@t{last_log_term}"),
        MessageInfo::TransferVote {
            last_log_index,
            last_log_term,
        } => format!("last log {last_log_index}@t{last_log_term}, leadership transfer"),
        MessageInfo::RequestVoteReply { vote_granted } => {
            if vote_granted { "granted" } else { "denied" }.to_string()
        }
        MessageInfo::AppendEntries {
            prev_log_index,
            prev_log_term,
            entries,
            leader_commit,
        } => {
            let what = match entries {
                Some((first, last)) if first == last => format!("entry {first}"),
                Some((first, last)) => format!("entries {first}..{last}"),
                None => "heartbeat".to_string(),
            };
            format!("{what}, prev {prev_log_index}@t{prev_log_term}, commit {leader_commit}")
        }
        MessageInfo::AppendEntriesReply {
            prev_log_index,
            outcome,
        } => match outcome {
            AppendOutcome::Accepted { match_index } => format!("ok, match {match_index}"),
            // The fast-backup hint (the lab's XTerm, XIndex, XLen).
            AppendOutcome::Conflict(hint) => match hint.term {
                Some(term) => format!(
                    "conflict at {prev_log_index}: has t{term} there (from {}), log ends at {}",
                    hint.first_index,
                    hint.log_end - 1
                ),
                None => format!(
                    "conflict at {prev_log_index}: log ends at {}",
                    hint.log_end - 1
                ),
            },
            AppendOutcome::StaleTerm => "stale term".to_string(),
        },
        MessageInfo::InstallSnapshot {
            last_included_index,
            last_included_term,
        } => format!("snapshot through {last_included_index}@t{last_included_term}"),
        MessageInfo::InstallSnapshotReply { installed_index } => match installed_index {
            Some(index) => format!("has {index}"),
            None => "stale term".to_string(),
        },
        MessageInfo::PreVote {
            last_log_index,
            last_log_term,
        } => format!("pre-vote, last log {last_log_index}@t{last_log_term}"),
        MessageInfo::PreVoteReply { vote_granted } => if vote_granted {
            "would grant"
        } else {
            "would deny"
        }
        .to_string(),
        MessageInfo::TimeoutNow => "campaign now (leadership transfer)".to_string(),
    }
}

/// What an entry carries, in words: its command, or for a leader's no-op or a
/// configuration (which carry none) its kind in parentheses: `(no-op)`.
pub fn entry_payload(entry: &crate::raft::Entry) -> String {
    if entry.kind.is_command() {
        entry.command.to_string()
    } else {
        format!("({})", entry.kind)
    }
}

/// How many entries a message's summary lists before `…`.
const LISTED_ENTRIES: usize = 3;

/// Entries as `t1 set x 1, t1 set y 2, …`: term and command, long commands cut.
fn entries_text(entries: &[crate::raft::Entry]) -> String {
    let mut shown: Vec<String> = entries
        .iter()
        .take(LISTED_ENTRIES)
        .map(|entry| {
            // A leader's no-op or a configuration has no command: its kind says it.
            if !entry.kind.is_command() {
                return format!("t{} ({})", entry.term, entry.kind);
            }
            let mut command: String = entry.command.chars().take(16).collect();
            if command.len() < entry.command.len() {
                command.push('…');
            }
            format!("t{} {command}", entry.term)
        })
        .collect();
    if entries.len() > LISTED_ENTRIES {
        shown.push(format!("… {} more", entries.len() - LISTED_ENTRIES));
    }
    shown.join(", ")
}

/// The `messages` view.
pub fn messages_view(messages: &[InFlight], now: u64) -> String {
    if messages.is_empty() {
        return "no messages in flight".dimmed().to_string();
    }
    let rows: Vec<Vec<String>> = messages
        .iter()
        .map(|message| {
            let envelope = &message.envelope;
            vec![
                format!("#{}", message.id),
                format!("n{}→n{}", envelope.from, envelope.to),
                envelope.message.kind().to_string(),
                in_term_color(envelope.term, &format!("t{}", envelope.term)).to_string(),
                message_summary(&envelope.message),
                format!("{} (in {})", message.due, message.due.saturating_sub(now)),
            ]
        })
        .collect();
    table(&["id", "route", "type", "term", "content", "due"], &rows)
}

/// An event in words, without its tick and node.
pub fn event_text(kind: &TraceKind) -> String {
    match kind {
        TraceKind::Raft { event } => match event {
            Event::ElectionTimeout { term } => {
                format!("timed out, starts an election for term {term}")
            }
            Event::VoteGranted { candidate, term } => {
                format!("votes for n{candidate} in term {term}")
            }
            Event::VoteDenied {
                candidate,
                term,
                reason,
            } => format!("denies n{candidate} its vote in term {term}: {reason}"),
            Event::BecameLeader { term } => format!("becomes leader of term {term}"),
            Event::SteppedDown { term, was } => {
                format!("steps down ({was} → follower), term {term}")
            }
            Event::Appended { from, to } => {
                if from == to {
                    format!("appends entry {from}")
                } else {
                    format!("appends entries {from}..{to}")
                }
            }
            Event::Truncated { from } => format!("discards conflicting entries from {from}"),
            Event::Committed { index } => format!("commit index → {index}"),
            Event::SnapshotTaken { index } => format!("snapshots through {index}"),
            Event::SnapshotInstalled { index } => {
                format!("installs the leader's snapshot through {index}")
            }
            Event::StaleTermIgnored { from, term } => {
                format!("ignores n{from}'s message of stale term {term}")
            }
            Event::VoteCounted {
                from,
                granted,
                votes,
                quorum,
            } => format!(
                "{} n{from}'s vote: has {votes}, needs {quorum}",
                if *granted { "counts" } else { "is denied" }
            ),
            Event::AppendRejected {
                leader,
                prev_log_index,
                prev_log_term,
                found,
            } => format!(
                "rejects n{leader}'s entries after {prev_log_index}: {}",
                mismatch(*prev_log_index, *prev_log_term, *found)
            ),
            Event::ProgressUpdated {
                follower,
                next_index,
                match_index,
                state,
            } => format!(
                "updates its view of n{follower}: match {match_index}, next {next_index}, {state}"
            ),
            Event::PreVoteStarted { term } => {
                format!("timed out, asks for pre-votes for term {term}")
            }
            Event::PreVoteGranted { candidate, term } => {
                format!("would vote for n{candidate} in term {term} (pre-vote)")
            }
            Event::PreVoteDenied {
                candidate,
                term,
                reason,
            } => format!("would not vote for n{candidate} in term {term} (pre-vote): {reason}"),
            Event::VoteIgnored {
                candidate,
                term,
                leader,
                pre_vote,
            } => format!(
                "ignores n{candidate}'s {} for term {term}: n{leader} leads and is alive",
                if *pre_vote {
                    "pre-vote"
                } else {
                    "vote request"
                }
            ),
            Event::LostQuorum {
                term,
                heard_from,
                quorum,
            } => format!(
                "heard from {} in an election timeout but needs {} (a majority with itself): gives up term {term}",
                if heard_from.is_empty() {
                    "no follower".to_string()
                } else {
                    heard_from
                        .iter()
                        .map(|id| format!("n{id}"))
                        .collect::<Vec<_>>()
                        .join(",")
                },
                quorum - 1
            ),
            Event::TransferStarted { target, term } => {
                format!("starts handing leadership of term {term} to n{target}")
            }
            Event::TransferAborted { target, term } => {
                format!("gives up handing leadership of term {term} to n{target}")
            }
            Event::TimeoutNowReceived { leader, term } => {
                format!("told by n{leader} (leader of term {term}) to campaign now")
            }
            Event::ConfigurationChanged {
                index,
                configuration,
            } => format!("now uses the configuration of entry {index}: {configuration}"),
            Event::LeftCluster { index } => {
                format!("is not in the configuration committed at {index}: stops leading")
            }
        },
        TraceKind::Applied { from, to } => {
            if from == to {
                format!("applies {from}")
            } else {
                format!("applies {from}..{to}")
            }
        }
        TraceKind::SnapshotLoaded { index } => {
            format!("state machine loads the snapshot through {index}")
        }
        TraceKind::Crashed => "crashes".to_string(),
        TraceKind::Restarted => "restarts from its persisted state".to_string(),
        TraceKind::Disconnected => "is disconnected".to_string(),
        TraceKind::Connected => "is connected".to_string(),
        TraceKind::Sent {
            id,
            to,
            term,
            message,
            copy,
        } => format!(
            "sends #{id} {} t{term} to n{to}: {}{}",
            message.kind(),
            info_summary(message),
            if *copy { " (a duplicate)" } else { "" }
        ),
        TraceKind::Delivered { id, from } => format!("receives #{id} from n{from}"),
        TraceKind::Dropped {
            id,
            to,
            message,
            reason,
        } => format!(
            "#{id} {message} to n{to} dropped ({})",
            drop_reason(*reason)
        ),
        TraceKind::Partitioned { group } => match group.as_slice() {
            [_] => "is partitioned off alone".to_string(),
            group => {
                let names: Vec<String> = group.iter().map(|id| format!("n{id}")).collect();
                format!("is partitioned into {{{}}}", names.join(","))
            }
        },
        TraceKind::Healed => "is reconnected: the network is healed".to_string(),
        TraceKind::Violation { invariant, text } => format!("VIOLATION {invariant}: {text}"),
        TraceKind::Rule { rule, broken: true } => format!("rule {rule} broken on every node"),
        TraceKind::Rule {
            rule,
            broken: false,
        } => format!("rule {rule} restored on every node"),
        TraceKind::Added => "starts, empty, to join the cluster".to_string(),
        TraceKind::Removed { index } => {
            format!("leaves the cluster: the configuration committed at {index} left it out")
        }
    }
}

/// Why a log failed the consistency check at `index` (Figure 2, AppendEntries rule 2).
pub fn mismatch(index: Index, wanted: Term, found: Option<Term>) -> String {
    match found {
        None => format!("no entry at {index}"),
        Some(term) => format!("entry {index} has term {term}, not {wanted}"),
    }
}

fn drop_reason(reason: crate::cluster::router::DropReason) -> &'static str {
    use crate::cluster::router::DropReason;
    match reason {
        DropReason::Lost => "lost",
        DropReason::Cut => "link cut",
        DropReason::Down => "node down",
        DropReason::Manual => "by hand",
        DropReason::Removed => "node removed",
    }
}

/// One event as a line: tick, node, what happened (violations in red).
pub fn event_line(event: &TraceEvent) -> String {
    let text = event_text(&event.kind);
    let text = match &event.kind {
        TraceKind::Violation { .. } => text.red().bold().to_string(),
        TraceKind::Rule { broken: true, .. } => text.red().to_string(),
        TraceKind::Raft {
            event: Event::BecameLeader { .. },
        } => text.green().to_string(),
        TraceKind::Crashed => text.red().to_string(),
        _ => text,
    };
    format!(
        "{} {} {text}",
        format!("tick {:>5}", event.tick).dimmed(),
        format!("n{:<2}", event.node).bold()
    )
}

/// True for a message sent or delivered: the network's routine traffic, which
/// `events` leaves out unless asked (`events N traffic`).
pub fn is_traffic(kind: &TraceKind) -> bool {
    matches!(kind, TraceKind::Sent { .. } | TraceKind::Delivered { .. })
}

/// True for events worth printing as they happen (elections, leaders, crashes,
/// snapshots installed), not routine traffic. Violations are printed apart, always.
pub fn is_notable(kind: &TraceKind) -> bool {
    match kind {
        TraceKind::Raft { event } => matches!(
            event,
            Event::ElectionTimeout { .. }
                | Event::BecameLeader { .. }
                | Event::SteppedDown { .. }
                | Event::Truncated { .. }
                | Event::SnapshotInstalled { .. }
                | Event::LostQuorum { .. }
                | Event::TransferStarted { .. }
                | Event::TransferAborted { .. }
                | Event::LeftCluster { .. }
        ),
        // (the other core events are routine: votes, appends, commits, progress)
        TraceKind::Crashed
        | TraceKind::Restarted
        | TraceKind::Rule { .. }
        | TraceKind::Added
        | TraceKind::Removed { .. } => true,
        TraceKind::Violation { .. }
        | TraceKind::Applied { .. }
        | TraceKind::SnapshotLoaded { .. }
        | TraceKind::Disconnected
        | TraceKind::Connected
        | TraceKind::Sent { .. }
        | TraceKind::Delivered { .. }
        | TraceKind::Dropped { .. }
        | TraceKind::Partitioned { .. }
        | TraceKind::Healed => false,
    }
}

/// Pretty JSON of any view's data.
pub fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).expect("view data always serializes")
}

/// Runs `f` with colors forced on (tests only; one at a time, as the setting is global).
#[cfg(test)]
pub(crate) fn with_colors<T>(f: impl FnOnce() -> T) -> T {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    colored::control::set_override(true);
    let result = f();
    colored::control::unset_override();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_wrap_at_the_limits_given() {
        assert_eq!(wrap_words("a bb ccc", 4, 4), ["a bb", "ccc"]);
        assert_eq!(wrap_words("a bb ccc", 1, 6), ["a", "bb ccc"]);
        // A word wider than its line gets a line of its own; spaces collapse.
        assert_eq!(
            wrap_words("tiny  enormousword x", 6, 6),
            ["tiny", "enormousword", "x"]
        );
        assert_eq!(wrap_words("", 10, 10), [""]);
        // Width is counted in columns: wide characters count two.
        assert_eq!(wrap_words("名前 名前", 5, 5), ["名前", "名前"]);
        assert_eq!(wrap_words("名前 名前", 9, 9), ["名前 名前"]);
    }

    #[test]
    fn tables_align_colored_cells() {
        let text = with_colors(|| {
            table(
                &["a", "b"],
                &[
                    vec!["x".red().to_string(), "1".into()],
                    vec!["long".into(), "2".into()],
                ],
            )
        });
        assert!(text.contains('\u{1b}'), "colored: {text:?}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(visible_width(lines[1]), visible_width(lines[2]));
    }

    #[test]
    fn visible_width_skips_escape_codes_and_counts_wide_characters() {
        assert_eq!(visible_width("\u{1b}[31mred\u{1b}[0m"), 3);
        assert_eq!(visible_width("plain"), 5);
        assert_eq!(visible_width("键值"), 4);
    }

    #[test]
    fn tables_align_wide_characters() {
        let text = table(
            &["key", "value"],
            &[
                vec!["键".into(), "1".into()],
                vec!["x".into(), "2".into()],
                vec!["名前です".into(), "3".into()],
            ],
        );
        // Every value starts in the same terminal column.
        let columns: Vec<usize> = text
            .lines()
            .skip(1)
            .map(|line| visible_width(&line[..line.rfind(' ').unwrap() + 1]))
            .collect();
        assert!(columns.windows(2).all(|pair| pair[0] == pair[1]), "{text}");
    }
}
