//! The parser: one line of text into a [`Command`], or a [`ParseError`] that says in
//! one line what was expected (and shows the command's usage and an example).
//! [`parse_action`] reads a line that names one [`Action`] concretely, the inverse of
//! the action's `Display`.

use super::actions::{Concrete, actions_of};
use super::command::{
    COMMANDS, Command, DEFAULT_SEARCH_SEEDS, ExportFormat, MAX_NODES, MAX_TICKS, MembersWanted,
    MessageFilter, SearchRequest, Target, Targets, usage_of,
};
use super::parse_check::{parse_expect, parse_filter, parse_wait};
use crate::cluster::action::{MAX_LATENCY, SETTINGS};
use crate::cluster::{Action, Invariant, Setting};
use crate::raft::{NodeId, Rule};

/// A line that does not parse, with a message that says what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

/// Builds the error for a command used wrongly: what was wrong, then its usage.
/// `name` is a command, or a form of `expect`/`wait` as both words (`expect log`),
/// whose usage alone is shown.
pub(super) fn usage(name: &str, problem: impl std::fmt::Display) -> ParseError {
    let (usage, example) = usage_of(name).expect("every parsed command and form has a usage");
    ParseError(format!(
        "{name}: {problem} (usage: {usage}, e.g. `{example}`)"
    ))
}

/// Cuts a trailing comment off a line: from a `#` that starts a word to the end.
/// (A `submit` keeps its whole text: a command may hold a `#`.)
pub fn strip_comment(line: &str) -> &str {
    let mut previous = ' ';
    for (at, c) in line.char_indices() {
        if c == '#' && previous.is_whitespace() {
            return line[..at].trim_end();
        }
        previous = c;
    }
    line
}

/// Parses one line. Blank lines and `#` comments are `Ok(None)`; a `#` that starts a
/// word ends the line (`tick 3  # the heartbeats go out`), except in `submit`, whose
/// text is the rest of the line.
pub fn parse(line: &str) -> Result<Option<Command>, ParseError> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let line = if split_word(line).0 == "submit" {
        line
    } else {
        strip_comment(line)
    };
    if line.chars().any(|c| c.is_control() && c != '\t') {
        return Err(ParseError(
            "the line contains control characters; type plain text (help lists the commands)"
                .into(),
        ));
    }
    let (name, rest) = split_word(line);
    // A command's text is free-form: even `--json` in it is part of the text.
    if name == "submit" {
        return parse_submit(rest).map(Some);
    }
    // So is a file name.
    if name == "save" {
        return parse_save(rest).map(Some);
    }
    let mut words: Vec<&str> = rest.split_whitespace().collect();
    let json = take_flag(&mut words, "--json");
    let command = match name {
        "help" | "?" => Command::Help(one_optional(name, &words)?.map(str::to_string)),
        "cluster" => parse_cluster(&words)?,
        "status" => view(name, &words, Command::Status { json })?,
        "members" => Command::Members {
            nodes: one_optional(name, &words)?
                .map(|text| parse_targets(name, text))
                .transpose()?,
            json,
        },
        "progress" => Command::Progress {
            leader: one_optional(name, &words)?
                .map(|text| parse_targets(name, text))
                .transpose()?,
            json,
        },
        "stats" => view(name, &words, Command::Stats { json })?,
        "messages" => view(name, &words, Command::Messages { json })?,
        "digest" => view(name, &words, Command::Digest { json })?,
        "timeline" => parse_timeline(&words, json)?,
        "rules" => view(name, &words, Command::Rules { json })?,
        "log" => parse_log(&words, json)?,
        "kv" => Command::Kv {
            node: one_optional(name, &words)?
                .map(|text| parse_targets(name, text))
                .transpose()?,
            json,
        },
        "events" => {
            let traffic = words.last() == Some(&"traffic");
            let words = &words[..words.len() - usize::from(traffic)];
            Command::Events {
                count: match one_optional(name, words)? {
                    Some(text) => match parse_number(name, text, "a count of events")? {
                        0 => return Err(usage(name, "the count of events must be at least 1")),
                        count => count.min(100_000) as usize,
                    },
                    None => 20,
                },
                traffic,
                json,
            }
        }
        _ if json => {
            return Err(ParseError(format!(
                "{name}: --json is for views (status, log, kv, events, stats, messages, progress, digest, rules)"
            )));
        }
        "crash" => Command::Crash(one_targets(name, &words)?),
        "restart" => Command::Restart(one_targets(name, &words)?),
        "disconnect" => Command::Disconnect(one_targets(name, &words)?),
        "connect" => Command::Connect(one_targets(name, &words)?),
        "snapshot" => match words.as_slice() {
            [nodes] => Command::Snapshot {
                nodes: parse_targets(name, nodes)?,
                at: None,
            },
            [nodes, "at", index] => Command::Snapshot {
                nodes: parse_targets(name, nodes)?,
                at: Some(parse_number(name, index, "a log index")?),
            },
            [_, "at"] => return Err(usage(name, "missing the index after `at`")),
            [] => return Err(usage(name, "missing argument")),
            [_, extra, ..] => return Err(usage(name, format!("unexpected `{extra}`"))),
        },
        "timeout" => Command::Timeout(one_targets(name, &words)?),
        "transfer" => parse_transfer(&words)?,
        "add-node" => match words.as_slice() {
            [] => Command::AddNode { leader: None },
            [leader] => Command::AddNode {
                leader: Some(parse_leader(name, leader)?),
            },
            [_, extra, ..] => return Err(usage(name, format!("unexpected `{extra}`"))),
        },
        "remove-node" => match words.as_slice() {
            [node] if !node.starts_with('@') => Command::RemoveNode {
                leader: None,
                node: parse_targets(name, node)?,
            },
            [leader, node] => Command::RemoveNode {
                leader: Some(parse_leader(name, leader)?),
                node: parse_targets(name, node)?,
            },
            [] | [_] => return Err(usage(name, "missing the node to remove")),
            [_, _, extra, ..] => return Err(usage(name, format!("unexpected `{extra}`"))),
        },
        "flush" => Command::Flush(one_targets(name, &words)?),
        "stabilize" => Command::Stabilize(
            one_optional(name, &words)?
                .map(|text| parse_targets(name, text))
                .transpose()?,
        ),
        "source" => match words.as_slice() {
            [] => return Err(usage(name, "missing the script file")),
            _ => Command::Source(rest.to_string()),
        },
        "partition" => parse_partition(rest)?,
        "heal" => none(name, &words, Command::Act(Action::Heal))?,
        "drop" => Command::Act(Action::DropRate(parse_rate(name, one(name, &words)?)?)),
        "duplicate" => match words.as_slice() {
            ["late", range] => {
                Command::Act(Action::LateDuplicates(parse_range_or_off(name, range)?))
            }
            ["late"] => return Err(usage(name, "missing the range after `late`")),
            _ => Command::Act(Action::DuplicateRate(parse_rate(name, one(name, &words)?)?)),
        },
        "delay" => match words.as_slice() {
            [link] if link.contains("->") => {
                return Err(usage(
                    name,
                    "missing the latency after the link (MIN[..MAX] ticks, or off)",
                ));
            }
            [link, range] if link.contains("->") => {
                let (from, to) = parse_link(name, link)?;
                let delay = parse_range_or_off(name, range)?;
                Command::Act(Action::LinkDelay { from, to, delay })
            }
            _ => {
                let (min, max) = parse_range(name, one(name, &words)?)?;
                Command::Act(Action::Latency { min, max })
            }
        },
        "break" => Command::Act(Action::Break(parse_rule(name, one(name, &words)?)?)),
        "mend" => match one(name, &words)? {
            "all" => Command::Act(Action::MendAll),
            rule => Command::Act(Action::Mend(parse_rule(name, rule)?)),
        },
        "search" => parse_search(&words)?,
        "unreliable" => Command::Act(Action::Unreliable(parse_switch(name, one(name, &words)?)?)),
        "reorder" => Command::Act(Action::LongReordering(parse_switch(
            name,
            one(name, &words)?,
        )?)),
        "set" => parse_set(&words)?,
        "autosnapshot" => Command::Act(Action::AutoSnapshot(match one(name, &words)? {
            "off" => None,
            text => match parse_number(name, text, "a number of entries or `off`")? {
                0 => return Err(usage(name, "the interval must be at least 1 (or `off`)")),
                every => Some(every),
            },
        })),
        "pause" => none(name, &words, Command::Pause)?,
        "resume" => none(name, &words, Command::Resume)?,
        "tick" => parse_tick(&words)?,
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
        "deliver" => match parse_messages(name, &words)? {
            Ok(id) => Command::Act(Action::Deliver(id)),
            Err(filter) => Command::Deliver(filter),
        },
        "drop-msg" => match parse_messages(name, &words)? {
            Ok(id) => Command::Act(Action::DropMessage(id)),
            Err(filter) => Command::DropMessages(filter),
        },
        "wait" => parse_wait(&words)?,
        "undo" => Command::Undo(match one_optional(name, &words)? {
            Some(text) => match parse_number(name, text, "a number of commands")? {
                0 => return Err(usage(name, "undo takes back at least 1 command")),
                count => usize::try_from(count).unwrap_or(usize::MAX),
            },
            None => 1,
        }),
        "rewind" => Command::Rewind(parse_ticks(name, one(name, &words)?)?),
        "goto" => Command::Goto(parse_number(name, one(name, &words)?, "a tick")?),
        "expect" => Command::Expect(parse_expect(rest)?),
        "export" => parse_export(rest)?,
        "quit" | "exit" => none(name, &words, Command::Quit)?,
        _ => return Err(unknown_command(name)),
    };
    Ok(Some(command))
}

/// Parses a line that is exactly one action with concrete node ids, message ids and
/// numbers: the inverse of the action's `Display` (`parse_action(&action.to_string())
/// == Ok(action)` for every action a cluster accepts). Roles (`leader`), several
/// nodes, `deliver all` and commands that change nothing are errors.
pub fn parse_action(line: &str) -> Result<Action, ParseError> {
    let Some(command) = parse(line)? else {
        return Err(ParseError(
            "a blank line or a comment is no action".to_string(),
        ));
    };
    let actions = actions_of(&command, &Concrete)
        .ok_or_else(|| {
            let name = split_word(line.trim()).0;
            ParseError(format!("`{name}` changes nothing, so it is no action"))
        })?
        .map_err(ParseError)?;
    match <[Action; 1]>::try_from(actions) {
        Ok([action]) => Ok(action),
        Err(actions) => Err(ParseError(format!(
            "that is {} actions, not one: an action names one node",
            actions.len()
        ))),
    }
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
pub(super) fn split_word(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    match text.find(char::is_whitespace) {
        Some(end) => (&text[..end], text[end..].trim_start()),
        None => (text, ""),
    }
}

/// `export html|json FILE` (the file name is the rest of the line).
fn parse_export(rest: &str) -> Result<Command, ParseError> {
    let (format, path) = split_word(rest);
    let format = match format {
        "html" => ExportFormat::Html,
        "json" => ExportFormat::Json,
        "" => return Err(usage("export", "missing the format, html or json")),
        other => {
            return Err(usage(
                "export",
                format!("expected html or json, got `{}`", shorten(other)),
            ));
        }
    };
    if path.is_empty() {
        return Err(usage("export", "missing the file to write"));
    }
    Ok(Command::Export {
        format,
        path: path.to_string(),
    })
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
pub(super) fn parse_number(name: &str, text: &str, what: &str) -> Result<u64, ParseError> {
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
pub(super) fn parse_ticks(name: &str, text: &str) -> Result<u64, ParseError> {
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
pub(super) fn shorten(text: &str) -> String {
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
pub(super) fn parse_targets(name: &str, text: &str) -> Result<Targets, ParseError> {
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

/// `log [NODES] [FROM..TO]`: a word with `..` is the range, any other the nodes.
fn parse_log(words: &[&str], json: bool) -> Result<Command, ParseError> {
    let name = "log";
    let (mut nodes, mut range) = (None, None);
    for word in words {
        if word.contains("..") && range.is_none() {
            range = Some(parse_index_range(name, word)?);
        } else if !word.contains("..") && nodes.is_none() {
            nodes = Some(parse_targets(name, word)?);
        } else {
            return Err(usage(name, format!("unexpected `{}`", shorten(word))));
        }
    }
    Ok(Command::Log { nodes, range, json })
}

/// `cluster N [seed S] [log K]` (seed and log in either order).
fn parse_cluster(words: &[&str]) -> Result<Command, ParseError> {
    let name = "cluster";
    let Some((count, mut rest)) = words.split_first() else {
        return Err(usage(name, "missing the number of nodes"));
    };
    let (mut seed, mut log) = (None, None);
    while !rest.is_empty() {
        match rest {
            ["seed", value, tail @ ..] if seed.is_none() => {
                seed = Some(parse_number(name, value, "a seed")?);
                rest = tail;
            }
            ["log", value, tail @ ..] if log.is_none() => {
                log = Some(parse_number(name, value, "a number of entries")?);
                rest = tail;
            }
            [word @ ("seed" | "log")] => {
                let what = if *word == "seed" {
                    "the seed"
                } else {
                    "the number of entries"
                };
                return Err(usage(name, format!("missing {what} after `{word}`")));
            }
            [extra, ..] => return Err(usage(name, format!("unexpected `{extra}`"))),
            [] => break,
        }
    }
    let nodes = parse_number(name, count, "a number of nodes")?;
    if !(1..=MAX_NODES as u64).contains(&nodes) {
        return Err(usage(
            name,
            format!("a cluster has 1 to {MAX_NODES} nodes, not {nodes}"),
        ));
    }
    let log = log.unwrap_or(0);
    if log > MAX_INITIAL_LOG {
        return Err(usage(
            name,
            format!("a cluster starts with at most {MAX_INITIAL_LOG} entries, not {log}"),
        ));
    }
    Ok(Command::Cluster {
        nodes: nodes as usize,
        seed,
        log,
    })
}

/// The most committed entries a cluster may start with (`cluster N log K`).
pub const MAX_INITIAL_LOG: u64 = 1_000_000;

/// `tick [N]`, or `tick NODES heartbeat|election`: one node's timer fires now.
fn parse_tick(words: &[&str]) -> Result<Command, ParseError> {
    let name = "tick";
    Ok(match words {
        [] => Command::Act(Action::Tick(1)),
        [count] => Command::Act(Action::Tick(parse_ticks(name, count)?)),
        [nodes, "heartbeat"] => Command::Heartbeat(parse_targets(name, nodes)?),
        [nodes, "election"] => Command::Timeout(parse_targets(name, nodes)?),
        [_, timer] => {
            return Err(usage(
                name,
                format!("expected heartbeat or election, got `{}`", shorten(timer)),
            ));
        }
        [_, _, extra, ..] => return Err(usage(name, format!("unexpected `{extra}`"))),
    })
}

/// The messages of `deliver` and `drop-msg`: one id (`Ok`), or a filter (`Err`):
/// `all`, or `[from NODES] [to NODES] [type TYPE]`.
fn parse_messages(name: &str, words: &[&str]) -> Result<Result<u64, MessageFilter>, ParseError> {
    Ok(match words {
        [] => return Err(usage(name, "missing a message id, `all` or a filter")),
        ["all"] => Err(MessageFilter::default()),
        [id] if id.chars().all(|c| c.is_ascii_digit()) => {
            Ok(parse_number(name, id, "a message id (see `messages`)")?)
        }
        [word] if !["from", "to", "type"].contains(word) => {
            return Err(usage(
                name,
                format!(
                    "expected a message id (see `messages`), `all` or a filter, got `{}`",
                    shorten(word)
                ),
            ));
        }
        filter => Err(parse_filter(name, filter)?),
    })
}

/// `timeline [TICKS] [NODES]`: a number first is ticks; nodes are never a bare
/// number there (`timeline 3` is three ticks; `timeline 40 3` or `timeline n3`).
fn parse_timeline(words: &[&str], json: bool) -> Result<Command, ParseError> {
    let name = "timeline";
    let number = |text: &str| !text.is_empty() && text.chars().all(|c| c.is_ascii_digit());
    let (ticks, nodes) = match words {
        [] => (None, None),
        [ticks] if number(ticks) => (Some(ticks), None),
        [nodes] => (None, Some(nodes)),
        [ticks, nodes] if number(ticks) => (Some(ticks), Some(nodes)),
        [first, _] => {
            return Err(usage(
                name,
                format!("expected a number of ticks first, got `{}`", shorten(first)),
            ));
        }
        [_, _, extra, ..] => return Err(usage(name, format!("unexpected `{extra}`"))),
    };
    Ok(Command::Timeline {
        ticks: ticks.map(|text| parse_ticks(name, text)).transpose()?,
        nodes: nodes.map(|text| parse_targets(name, text)).transpose()?,
        json,
    })
}

/// `save FILE`: the rest of the line is the file name.
fn parse_save(rest: &str) -> Result<Command, ParseError> {
    let file = rest.trim();
    if file.is_empty() {
        return Err(usage("save", "missing the file name"));
    }
    Ok(Command::Save(file.to_string()))
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

/// `@LEADER`: the node a membership change or a transfer is asked of.
fn parse_leader(name: &str, word: &str) -> Result<Targets, ParseError> {
    match word.strip_prefix('@') {
        Some(leader) => parse_targets(name, leader),
        None => Err(usage(
            name,
            format!("expected `@LEADER` (like @1), not `{}`", shorten(word)),
        )),
    }
}

/// `= VOTERS [learners NODES]`: a configuration for `expect members` and `wait
/// members`, node numbers only (what a configuration holds does not depend on who
/// leads).
pub(super) fn parse_members(name: &str, words: &[&str]) -> Result<MembersWanted, ParseError> {
    let ids = |text: &str| -> Result<Vec<NodeId>, ParseError> {
        let mut ids = Vec::new();
        for target in parse_targets(name, text)? {
            match target {
                Target::Node(id) => ids.push(id),
                Target::Leader | Target::Followers | Target::All => {
                    return Err(usage(
                        name,
                        "list the members by number, like 1,2,3 (leader, followers and all change)",
                    ));
                }
            }
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    };
    match words {
        ["=" | "==", voters] => Ok(MembersWanted {
            voters: ids(voters)?,
            learners: None,
        }),
        ["=" | "==", voters, "learners", learners] => Ok(MembersWanted {
            voters: ids(voters)?,
            learners: Some(ids(learners)?),
        }),
        ["=" | "==", _, "learners"] => Err(usage(name, "missing the learners after `learners`")),
        ["=" | "==", _, extra, ..] => Err(usage(name, format!("unexpected `{}`", shorten(extra)))),
        [first, ..] if *first != "=" && *first != "==" => Err(usage(
            name,
            format!(
                "expected `= VOTERS` (like = 1,2,3), got `{}`",
                shorten(first)
            ),
        )),
        _ => Err(usage(name, "missing the voters after `=`")),
    }
}

/// `transfer [@LEADER] NODE`.
fn parse_transfer(words: &[&str]) -> Result<Command, ParseError> {
    let name = "transfer";
    match words {
        [leader, target] => match leader.strip_prefix('@') {
            Some(leader) => Ok(Command::Transfer {
                leader: Some(parse_targets(name, leader)?),
                target: parse_targets(name, target)?,
            }),
            None => Err(usage(
                name,
                format!("expected `@LEADER` before the node, not `{leader}`"),
            )),
        },
        [target] if target.starts_with('@') => {
            Err(usage(name, "missing the node to hand leadership to"))
        }
        [target] => Ok(Command::Transfer {
            leader: None,
            target: parse_targets(name, target)?,
        }),
        [] => Err(usage(name, "missing the node to hand leadership to")),
        [_, _, extra, ..] => Err(usage(name, format!("unexpected `{extra}`"))),
    }
}

/// `partition NODES | NODES ...`, or one group alone: `partition NODES` (every node
/// it does not name is alone).
fn parse_partition(rest: &str) -> Result<Command, ParseError> {
    let name = "partition";
    if !rest.contains('|') {
        return match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
            [group] => Ok(Command::Partition(vec![parse_targets(name, group)?])),
            _ => Err(usage(name, "expected groups separated by `|`")),
        };
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

/// `FROM..TO`: log indexes, 1 ≤ FROM ≤ TO.
fn parse_index_range(name: &str, text: &str) -> Result<(u64, u64), ParseError> {
    let Some((from, to)) = text.split_once("..") else {
        return Err(usage(
            name,
            format!("expected FROM..TO, got `{}`", shorten(text)),
        ));
    };
    let what = "a log index (FROM..TO)";
    let (from, to) = (
        parse_number(name, from, what)?,
        parse_number(name, to, what)?,
    );
    if from == 0 || to < from {
        return Err(usage(
            name,
            format!("a range of indexes has 1 ≤ FROM ≤ TO, not {from}..{to}"),
        ));
    }
    Ok((from, to))
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
    if min == 0 || max < min || max > MAX_LATENCY {
        return Err(usage(
            name,
            format!("latency must be 1 ≤ MIN ≤ MAX ≤ {MAX_LATENCY} ticks, not {min}..{max}"),
        ));
    }
    Ok((min, max))
}

/// `FROM->TO`: one direction of one link, by node numbers.
fn parse_link(name: &str, text: &str) -> Result<(NodeId, NodeId), ParseError> {
    let node = |part: &str| {
        let digits = part.strip_prefix('n').unwrap_or(part);
        (!digits.is_empty() && digits.len() <= 6 && digits.chars().all(|c| c.is_ascii_digit()))
            .then(|| digits.parse::<NodeId>().ok())
            .flatten()
    };
    match text.split_once("->") {
        Some((from, to)) => match (node(from), node(to)) {
            (Some(from), Some(to)) => Ok((from, to)),
            _ => Err(usage(
                name,
                format!(
                    "expected a link FROM->TO between node numbers (like 2->1), got `{}`",
                    shorten(text)
                ),
            )),
        },
        None => Err(usage(name, "expected a link FROM->TO")),
    }
}

/// `MIN[..MAX]` ticks, or `off`.
fn parse_range_or_off(name: &str, text: &str) -> Result<Option<(u64, u64)>, ParseError> {
    match text {
        "off" => Ok(None),
        text => parse_range(name, text).map(Some),
    }
}

/// A rule's name, with the known ones in the error.
fn parse_rule(name: &str, text: &str) -> Result<Rule, ParseError> {
    Rule::from_name(text).map_err(|unknown| usage(name, unknown))
}

/// An invariant's name, with the known ones in the error.
pub(super) fn parse_invariant(name: &str, text: &str) -> Result<Invariant, ParseError> {
    Invariant::from_name(text).map_err(|unknown| usage(name, unknown))
}

/// `search [seeds N] [budget SECS] [for INVARIANT] [out FILE]`, in any order.
fn parse_search(words: &[&str]) -> Result<Command, ParseError> {
    let name = "search";
    let mut request = SearchRequest {
        seeds: DEFAULT_SEARCH_SEEDS,
        budget: None,
        invariant: None,
        out: None,
    };
    let mut rest = words;
    while !rest.is_empty() {
        match rest {
            ["seeds", count, more @ ..] => {
                request.seeds = parse_number(name, count, "a number of seeds")?;
                if request.seeds == 0 {
                    return Err(usage(name, "seeds must be at least 1"));
                }
                rest = more;
            }
            ["budget", seconds, more @ ..] => {
                let seconds = parse_number(name, seconds, "a number of seconds")?;
                if seconds == 0 {
                    return Err(usage(name, "a budget is at least 1 second"));
                }
                request.budget = Some(seconds);
                rest = more;
            }
            ["for", invariant, more @ ..] => {
                request.invariant = Some(parse_invariant(name, invariant)?);
                rest = more;
            }
            ["out", file, more @ ..] => {
                request.out = Some(file.to_string());
                rest = more;
            }
            [word @ ("seeds" | "budget" | "for" | "out")] => {
                return Err(usage(name, format!("missing the value after `{word}`")));
            }
            [word, ..] => {
                return Err(usage(
                    name,
                    format!(
                        "expected seeds, budget, for or out, got `{}`",
                        shorten(word)
                    ),
                ));
            }
            [] => unreachable!("the loop runs while words remain"),
        }
    }
    Ok(Command::Search(request))
}

/// `set NAME VALUE`: a core setting (see [`Setting`]).
fn parse_set(words: &[&str]) -> Result<Command, ParseError> {
    let name = "set";
    match words {
        [setting, value] => Setting::parse(setting, value)
            .map(|setting| Command::Act(Action::Set(setting)))
            .map_err(|problem| {
                if !SETTINGS.iter().any(|spec| spec.name == *setting) {
                    // Not a setting: perhaps a key-value command without its `submit`.
                    usage(
                        name,
                        format!("{problem} (to change the key-value map, `submit set KEY VALUE`)"),
                    )
                } else {
                    usage(name, problem)
                }
            }),
        [] | [_] => Err(usage(name, "missing the setting's name or value")),
        [_, _, extra, ..] => Err(usage(
            name,
            format!(
                "unexpected `{}` (to change the key-value map, `submit set KEY VALUE`)",
                shorten(extra)
            ),
        )),
    }
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

#[cfg(test)]
mod tests;
