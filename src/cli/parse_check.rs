//! The parser's half for checks: `wait` and `expect` lines (what they wait for or
//! assert), and the pieces they share: quorums (`on 3 nodes`), operators, roles,
//! message types and fields.

use super::command::{
    Command, EXPECT_FORMS, Expectation, Field, MAX_NODES, MESSAGE_TYPES, MessageFilter, OPERATORS,
    Op, PROGRESS_STATES, Quorum, RoleOrDown, Target, WAIT_FORMS, WaitFor, form_of,
};
use super::parse::{
    ParseError, parse_invariant, parse_members, parse_number, parse_target, parse_targets,
    parse_ticks, shorten, split_word, usage,
};
use super::stepping::MESSAGE_FIELDS;
use crate::raft::Role;

/// A history digest as `digest` shows it: 1 to 16 hex digits.
fn parse_digest(name: &str, text: &str) -> Result<u64, ParseError> {
    let valid = (1..=16).contains(&text.len()) && text.chars().all(|c| c.is_ascii_hexdigit());
    valid
        .then(|| u64::from_str_radix(text, 16).ok())
        .flatten()
        .ok_or_else(|| {
            usage(
                name,
                format!(
                    "expected a history digest of 1 to 16 hex digits (see `digest`), got `{}`",
                    shorten(text)
                ),
            )
        })
}

/// The name errors go by: the form (`expect log`), whose usage alone they show,
/// or the bare command if the first word is no form of it.
fn form_name(command: &str, words: &[&str]) -> String {
    match words.first() {
        Some(form) if form_of(command, form).is_some() => format!("{command} {form}"),
        _ => command.to_string(),
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

/// `on all|majority|N nodes|NODES`, or nothing (majority). A bare number names a
/// node (`on 3` is n3), as everywhere else; a count says `nodes`.
fn parse_quorum(name: &str, words: &[&str]) -> Result<Quorum, ParseError> {
    match words {
        [] => Ok(Quorum::Majority),
        ["on", "all"] => Ok(Quorum::All),
        ["on", "majority"] => Ok(Quorum::Majority),
        ["on", count, "nodes" | "node"] => {
            let count = parse_number(name, count, "a number of nodes")?;
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
            "missing what follows `on` (all, majority, N nodes, or nodes like 1,2)",
        )),
        [extra, ..] => Err(usage(name, format!("unexpected `{extra}`"))),
    }
}

/// `wait ...`.
pub(super) fn parse_wait(words: &[&str]) -> Result<Command, ParseError> {
    let name = &form_name("wait", words);
    let name = name.as_str();
    let (words, within) = split_within(name, words)?;
    let until = match words {
        ["leader"] => WaitFor::Leader,
        ["leader", "new"] => WaitFor::NewLeader,
        ["commit", index, rest @ ..] => WaitFor::Commit {
            index: parse_number(name, index, "a log index")?,
            on: parse_quorum(name, rest)?,
        },
        ["role", nodes, role] => {
            WaitFor::Role(parse_targets(name, nodes)?, parse_role(name, role)?)
        }
        [
            field @ ("term" | "applied" | "snapshot" | "last-index"),
            rest @ ..,
        ] => parse_wait_field(name, field_of(field), rest)?,
        ["ticks", count] => WaitFor::Ticks(parse_ticks(name, count)?),
        ["members", rest @ ..] => WaitFor::Members(parse_members(name, rest)?),
        [form, ..] if WAIT_FORMS.contains(form) => {
            return Err(usage(name, format!("wrong arguments for `wait {form}`")));
        }
        [form, ..] => {
            return Err(usage(
                name,
                format!(
                    "expected one of {}, got `{}`",
                    WAIT_FORMS.join(", "),
                    shorten(form)
                ),
            ));
        }
        [] => return Err(usage(name, "missing what to wait for")),
    };
    Ok(Command::Wait { until, within })
}

/// A status field by name (one of the names `expect FIELD` takes).
fn field_of(text: &str) -> Field {
    match text {
        "term" => Field::Term,
        "commit" => Field::Commit,
        "snapshot" => Field::Snapshot,
        "applied" => Field::Applied,
        _ => Field::LastIndex,
    }
}

/// What follows `wait FIELD`: `[NODES] OP N`, or for `applied` also `[NODES] INDEX`
/// (at least through INDEX, as `expect applied NODES INDEX`).
fn parse_wait_field(name: &str, field: Field, words: &[&str]) -> Result<WaitFor, ParseError> {
    let what = match field {
        Field::Term => "a term",
        _ => "a log index",
    };
    let number = |text: &str| parse_number(name, text, what);
    let is_op = |text: &str| parse_op(name, text).is_ok();
    let (targets, op, value) = match words {
        [index] if field == Field::Applied => (None, Op::Ge, number(index)?),
        [op, value] if is_op(op) || field != Field::Applied => {
            (None, parse_op(name, op)?, number(value)?)
        }
        [nodes, index] => (Some(parse_targets(name, nodes)?), Op::Ge, number(index)?),
        [nodes, op, value] => (
            Some(parse_targets(name, nodes)?),
            parse_op(name, op)?,
            number(value)?,
        ),
        [] | [_] => {
            return Err(usage(name, "missing the comparison (like `>= 2`)"));
        }
        [_, _, _, extra, ..] => {
            return Err(usage(name, format!("unexpected `{}`", shorten(extra))));
        }
    };
    Ok(WaitFor::Field(field, targets, op, value))
}

fn parse_role(name: &str, text: &str) -> Result<RoleOrDown, ParseError> {
    match text {
        "leader" => Ok(RoleOrDown::Role(Role::Leader)),
        "candidate" => Ok(RoleOrDown::Role(Role::Candidate)),
        "follower" => Ok(RoleOrDown::Role(Role::Follower)),
        "down" => Ok(RoleOrDown::Down),
        "learner" => Ok(RoleOrDown::Learner),
        "removed" => Ok(RoleOrDown::Removed),
        other => Err(usage(
            name,
            format!(
                "expected leader, candidate, follower, learner, down or removed, got `{}`",
                shorten(other)
            ),
        )),
    }
}

/// A comparison: `==` (or `=`), `!=`, `<`, `<=`, `>`, `>=`.
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
            format!(
                "expected one of {}, got `{}`",
                OPERATORS.join(" "),
                shorten(other)
            ),
        )),
    }
}

/// One node, or `none`.
fn parse_node_or_none(name: &str, text: &str) -> Result<Option<Target>, ParseError> {
    match text {
        "none" => Ok(None),
        other => parse_one_target(name, other).map(Some),
    }
}

/// One target (`3`, `n3`, `leader`).
fn parse_one_target(name: &str, text: &str) -> Result<Target, ParseError> {
    parse_target(text).ok_or_else(|| {
        usage(
            name,
            format!(
                "expected one node (3, n3 or leader), got `{}`",
                shorten(text)
            ),
        )
    })
}

/// A message type as `messages` shows it, in any case (`appendentries` too).
pub(super) fn parse_message_type(name: &str, text: &str) -> Result<&'static str, ParseError> {
    MESSAGE_TYPES
        .iter()
        .find(|kind| kind.eq_ignore_ascii_case(text))
        .copied()
        .ok_or_else(|| {
            usage(
                name,
                format!(
                    "expected a message type ({}), got `{}`",
                    MESSAGE_TYPES.join(", "),
                    shorten(text)
                ),
            )
        })
}

/// `[from NODES] [to NODES] [type TYPE]`, each at most once, in any order.
pub(super) fn parse_filter(name: &str, words: &[&str]) -> Result<MessageFilter, ParseError> {
    let mut filter = MessageFilter::default();
    let mut rest = words;
    while !rest.is_empty() {
        match rest {
            ["from", nodes, tail @ ..] if filter.from.is_none() => {
                filter.from = Some(parse_targets(name, nodes)?);
                rest = tail;
            }
            ["to", nodes, tail @ ..] if filter.to.is_none() => {
                filter.to = Some(parse_targets(name, nodes)?);
                rest = tail;
            }
            ["type", kind, tail @ ..] if filter.kind.is_none() => {
                filter.kind = Some(parse_message_type(name, kind)?);
                rest = tail;
            }
            [word @ ("from" | "to" | "type")] => {
                return Err(usage(name, format!("missing what follows `{word}`")));
            }
            [word, ..] => {
                return Err(usage(
                    name,
                    format!(
                        "unexpected `{}` (a filter is [from NODES] [to NODES] [type TYPE], each once)",
                        shorten(word)
                    ),
                ));
            }
            [] => break,
        }
    }
    Ok(filter)
}

/// `FROM->TO`: one sender and one recipient.
fn parse_route(name: &str, text: &str) -> Result<(Target, Target), ParseError> {
    let Some((from, to)) = text.split_once("->") else {
        return Err(usage(
            name,
            format!("expected FROM->TO, like 1->2, got `{}`", shorten(text)),
        ));
    };
    Ok((parse_one_target(name, from)?, parse_one_target(name, to)?))
}

/// `FIELD=VALUE` pairs of `expect message`, with known field names.
fn parse_fields(name: &str, words: &[&str]) -> Result<Vec<(String, String)>, ParseError> {
    words
        .iter()
        .map(|word| match word.split_once('=') {
            Some((field, value)) if MESSAGE_FIELDS.contains(&field) && !value.is_empty() => {
                Ok((field.to_string(), value.to_string()))
            }
            _ => Err(usage(
                name,
                format!(
                    "expected FIELD=VALUE with a field of {}, got `{}`",
                    MESSAGE_FIELDS.join(", "),
                    shorten(word)
                ),
            )),
        })
        .collect()
}

/// `expect progress LEADER FOLLOWERS STATE [match M] [next N]`.
fn parse_progress(name: &str, words: &[&str]) -> Result<Expectation, ParseError> {
    let [leader, followers, state, rest @ ..] = words else {
        return Err(usage(name, "wrong arguments for `expect progress`"));
    };
    let state = PROGRESS_STATES
        .iter()
        .find(|known| *known == state)
        .copied()
        .ok_or_else(|| {
            usage(
                name,
                format!(
                    "expected a replication state ({}), got `{}`",
                    PROGRESS_STATES.join(", "),
                    shorten(state)
                ),
            )
        })?;
    let (mut match_index, mut next_index) = (None, None);
    let mut rest = rest;
    while !rest.is_empty() {
        match rest {
            ["match", value, tail @ ..] if match_index.is_none() => {
                match_index = Some(parse_number(name, value, "a match index")?);
                rest = tail;
            }
            ["next", value, tail @ ..] if next_index.is_none() => {
                next_index = Some(parse_number(name, value, "a next index")?);
                rest = tail;
            }
            [word, ..] => {
                return Err(usage(
                    name,
                    format!("unexpected `{}` (then: [match M] [next N])", shorten(word)),
                ));
            }
            [] => break,
        }
    }
    Ok(Expectation::Progress {
        leader: parse_one_target(name, leader)?,
        followers: parse_targets(name, followers)?,
        state,
        match_index,
        next_index,
    })
}

/// The rest of `text` after its first `count` words, spaces inside kept.
fn after_words(text: &str, count: usize) -> &str {
    (0..count).fold(text, |rest, _| split_word(rest).1).trim()
}

/// `expect ...`.
pub(super) fn parse_expect(rest: &str) -> Result<Expectation, ParseError> {
    let words: Vec<&str> = rest.split_whitespace().collect();
    let name = &form_name("expect", &words);
    let name = name.as_str();
    let number = |text: &str, what: &str| parse_number(name, text, what);
    let expectation = match words.as_slice() {
        ["leader"] => Expectation::Leader(None),
        ["leader", node] => Expectation::Leader(Some(parse_targets(name, node)?)),
        ["no-leader"] => Expectation::NoLeader,
        ["role", nodes, role] => {
            Expectation::Role(parse_targets(name, nodes)?, parse_role(name, role)?)
        }
        [
            field @ ("term" | "commit" | "snapshot" | "last-index" | "applied"),
            nodes,
            op,
            value,
        ] => Expectation::Field(
            field_of(field),
            parse_targets(name, nodes)?,
            parse_op(name, op)?,
            number(value, "a number")?,
        ),
        // `applied NODES INDEX`: at least through INDEX.
        ["applied", nodes, index] => Expectation::Field(
            Field::Applied,
            parse_targets(name, nodes)?,
            Op::Ge,
            number(index, "a log index")?,
        ),
        ["committed", index, rest @ ..] => {
            Expectation::Committed(number(index, "a log index")?, parse_quorum(name, rest)?)
        }
        ["voted", nodes, candidate] => Expectation::Voted(
            parse_targets(name, nodes)?,
            parse_node_or_none(name, candidate)?,
        ),
        ["leader-known", nodes, leader] => Expectation::LeaderKnown(
            parse_targets(name, nodes)?,
            parse_node_or_none(name, leader)?,
        ),
        ["log", nodes, "=" | "==", terms @ ..] => {
            let terms = match terms {
                ["empty"] => Vec::new(),
                terms => terms
                    .iter()
                    .map(|term| number(term, "a term (or `empty`)"))
                    .collect::<Result<_, _>>()?,
            };
            Expectation::Log(parse_targets(name, nodes)?, terms)
        }
        ["entry", nodes, index, term, ..] => {
            let command = after_words(rest, 4);
            let index = number(index, "a log index")?;
            if index == 0 {
                return Err(usage(name, "entries are numbered from 1, not 0"));
            }
            Expectation::Entry {
                nodes: parse_targets(name, nodes)?,
                index,
                term: number(term, "a term")?,
                command: (!command.is_empty()).then(|| command.to_string()),
            }
        }
        ["progress", rest @ ..] => parse_progress(name, rest)?,
        ["message", route, kind, fields @ ..] => {
            let (from, to) = parse_route(name, route)?;
            Expectation::Message {
                from,
                to,
                kind: parse_message_type(name, kind)?,
                fields: parse_fields(name, fields)?,
            }
        }
        ["no-message", filter @ ..] => Expectation::NoMessage(parse_filter(name, filter)?),
        ["kv", nodes, key, ..] => {
            // The value is the rest of the line, spaces included.
            let value = after_words(rest, 3);
            Expectation::Kv(
                parse_targets(name, nodes)?,
                key.to_string(),
                (!value.is_empty()).then(|| value.to_string()),
            )
        }
        ["members", nodes, rest @ ..] => {
            Expectation::Members(parse_targets(name, nodes)?, parse_members(name, rest)?)
        }
        ["logs-match"] => Expectation::LogsMatch,
        ["no-violations"] => Expectation::NoViolations,
        ["digest", digest] => Expectation::Digest(parse_digest(name, digest)?),
        ["violation"] => Expectation::Violation(None),
        ["violation", invariant] => Expectation::Violation(Some(parse_invariant(name, invariant)?)),
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
