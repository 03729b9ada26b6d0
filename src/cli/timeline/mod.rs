//! `timeline [TICKS] [NODES]`: a space-time (Lamport) diagram of the recent past,
//! drawn from the trace alone.
//!
//! One lane per node, time flowing down. Each message is an arrow drawn on the row of
//! its sending, from the sender's lane to the recipient's, and its head says what
//! became of it: delivered (`▶`), dropped (`✗`, the reason beside it) or still in
//! flight (`▷`, with its id for `deliver`). Rows follow the trace's order, so a
//! message sent because another arrived is drawn below it, even when both happened
//! within one tick (an election stepped by hand happens entirely at tick 0). Role
//! changes are marked on the lane with the term (`C1` candidate, `L1` leader, `F2`
//! follower of a newer term, `╳` crash, `↻` restart), and the lane itself shows the
//! role (`┃` leader, `╎` candidate, `│` follower, blank while down), colored as
//! everywhere else. Runs of routine heartbeats and their acknowledgements fold into one
//! row so they do not drown the picture.
//!
//! This file holds the [`Row`]s (also the `--json` form) and folds heartbeats;
//! `build.rs` makes the rows from trace events; `draw.rs` lays them out in at most
//! 80 columns for 5 nodes.

mod build;
mod draw;

use serde::Serialize;

use crate::cluster::Cluster;
use crate::cluster::router::DropReason;
use crate::raft::{AppendOutcome, MessageInfo, NodeId, Term};

use self::build::Builder;
pub use self::draw::draw;

/// How many ticks `timeline` shows without a number.
pub const DEFAULT_TICKS: u64 = 30;

/// Routine heartbeat rows in a row that fold into one.
const HEARTBEAT_RUN: usize = 6;

/// What a lane shows: the node's role, or that it is down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LaneRole {
    /// Up, following (or not yet known otherwise).
    Follower,
    /// Up, campaigning.
    Candidate,
    /// Up, leading.
    Leader,
    /// Crashed.
    Down,
}

/// A node's lane at one row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Lane {
    /// The node.
    pub node: NodeId,
    /// Its role (or down).
    pub role: LaneRole,
    /// Its term, if known.
    pub term: Option<Term>,
}

/// What became of a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "fate")]
pub enum Fate {
    /// It reached its recipient at `tick`.
    Delivered {
        /// When.
        tick: u64,
    },
    /// It was dropped, for this reason.
    Dropped {
        /// Why.
        reason: DropReason,
    },
    /// It is still on its way.
    InFlight,
}

/// A message, as an arrow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Arrow {
    /// The message's id.
    pub id: u64,
    /// The sender.
    pub from: NodeId,
    /// The recipient.
    pub to: NodeId,
    /// The term in its envelope.
    pub term: Term,
    /// What it says, in a few characters (`RV t1`, `vote`, `AE 3-5`, `♥`, `ok 5`).
    pub label: String,
    /// What became of it.
    pub fate: Fate,
}

/// One row of the diagram.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The tick it happened at (the first tick, for folded heartbeats).
    pub tick: u64,
    /// The last tick, for folded heartbeats (else equal to `tick`).
    pub last_tick: u64,
    /// Every shown node's lane after this row.
    pub lanes: Vec<Lane>,
    /// A mark on a lane at this row: `C1`, `L1`, `F2`, `╳`, `↻`.
    pub tags: Vec<(NodeId, String)>,
    /// The message sent at this row, if any.
    pub arrow: Option<Arrow>,
    /// What happened, in words.
    pub note: Option<String>,
    /// True if the note reports a broken invariant.
    pub violation: bool,
    /// How many routine heartbeats and acknowledgements this row stands for (0 unless
    /// folded).
    pub heartbeats: usize,
}

/// The diagram's data: the rows and what they cover.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Timeline {
    /// The first tick shown.
    pub from_tick: u64,
    /// The last tick shown (now).
    pub to_tick: u64,
    /// The nodes shown, in lane order, with their lanes as the window begins.
    pub lanes: Vec<Lane>,
    /// The rows, oldest first.
    pub rows: Vec<Row>,
    /// True if events of the window's start were no longer kept by the trace.
    pub truncated: bool,
}

/// The timeline of the last `ticks` ticks (1 or more) for `nodes` (in lane order).
pub fn timeline(cluster: &Cluster, ticks: u64, nodes: &[NodeId]) -> Timeline {
    let now = cluster.now();
    let from_tick = now.saturating_sub(ticks.saturating_sub(1));
    let events = cluster.events(usize::MAX);
    let truncated = cluster.event_count() > events.len() as u64
        && events.first().is_some_and(|event| event.tick >= from_tick);
    let mut builder = Builder::new(cluster, nodes, &events);
    let mut lanes_at_start = None;
    for (position, event) in events.iter().enumerate() {
        if event.tick < from_tick {
            builder.track(event);
            continue;
        }
        if lanes_at_start.is_none() {
            lanes_at_start = Some(builder.shown_lanes());
        }
        builder.row_for(position, event);
    }
    Timeline {
        from_tick,
        to_tick: now,
        lanes: lanes_at_start.unwrap_or_else(|| builder.shown_lanes()),
        rows: fold_heartbeats(builder.rows),
        truncated,
    }
}

/// A routine heartbeat, or the acknowledgement of one (nothing new matched).
fn is_heartbeat(message: &MessageInfo) -> bool {
    match *message {
        MessageInfo::AppendEntries { entries, .. } => entries.is_none(),
        MessageInfo::AppendEntriesReply {
            prev_log_index,
            outcome: AppendOutcome::Accepted { match_index },
        } => match_index == prev_log_index,
        _ => false,
    }
}

/// A message in a few characters.
fn label(message: &MessageInfo, term: Term) -> String {
    match *message {
        MessageInfo::RequestVote { .. } => format!("RV t{term}"),
        MessageInfo::TransferVote { .. } => format!("RV t{term} transfer"),
        MessageInfo::PreVote { .. } => format!("PV t{term}"),
        MessageInfo::PreVoteReply { vote_granted } => if vote_granted {
            "pre-vote"
        } else {
            "no pre-vote"
        }
        .to_string(),
        MessageInfo::TimeoutNow => "timeout now".to_string(),
        MessageInfo::RequestVoteReply { vote_granted } => {
            if vote_granted { "vote" } else { "no vote" }.to_string()
        }
        MessageInfo::AppendEntries { entries, .. } => match entries {
            None => "♥".to_string(),
            Some((first, last)) if first == last => format!("AE {first}"),
            Some((first, last)) => format!("AE {first}-{last}"),
        },
        MessageInfo::AppendEntriesReply { outcome, .. } => match outcome {
            AppendOutcome::Accepted { match_index } => format!("ok {match_index}"),
            AppendOutcome::Conflict(_) => "conflict".to_string(),
            AppendOutcome::StaleTerm => "stale".to_string(),
        },
        MessageInfo::InstallSnapshot {
            last_included_index,
            ..
        } => format!("snap {last_included_index}"),
        MessageInfo::InstallSnapshotReply { installed_index } => match installed_index {
            Some(index) => format!("has {index}"),
            None => "stale".to_string(),
        },
    }
}

/// Why a message was dropped, in a word or two.
fn dropped(reason: DropReason) -> &'static str {
    match reason {
        DropReason::Lost => "lost",
        DropReason::Cut => "dropped: link cut",
        DropReason::Down => "dropped: node down",
        DropReason::Manual => "dropped by hand",
        DropReason::Removed => "dropped: node removed",
    }
}

/// Folds runs of at least [`HEARTBEAT_RUN`] routine heartbeat rows (delivered or
/// dropped; those still in flight stay, with their ids) into one.
fn fold_heartbeats(rows: Vec<Row>) -> Vec<Row> {
    let mut folded: Vec<Row> = Vec::new();
    let mut run: Vec<Row> = Vec::new();
    let flush = |run: &mut Vec<Row>, folded: &mut Vec<Row>| {
        if run.len() >= HEARTBEAT_RUN {
            let first = run[0].tick;
            let last = &run[run.len() - 1];
            let count = run.len();
            let ticks = if first == last.tick {
                format!("t{first}")
            } else {
                format!("t{first}-{}", last.tick)
            };
            let lost = run
                .iter()
                .filter(|row| {
                    matches!(
                        row.arrow,
                        Some(Arrow {
                            fate: Fate::Dropped { .. },
                            ..
                        })
                    )
                })
                .count();
            let lost = if lost > 0 {
                format!(" (✗ {lost})")
            } else {
                String::new()
            };
            folded.push(Row {
                tick: first,
                last_tick: last.tick,
                lanes: last.lanes.clone(),
                tags: Vec::new(),
                arrow: None,
                note: Some(format!("♥ ×{count}{lost}, {ticks}")),
                violation: false,
                heartbeats: count,
            });
            run.clear();
        } else {
            folded.append(run);
        }
    };
    for row in rows {
        let routine = row.heartbeats == 1
            && !matches!(
                row.arrow,
                Some(Arrow {
                    fate: Fate::InFlight,
                    ..
                })
            );
        if routine {
            run.push(row);
        } else {
            flush(&mut run, &mut folded);
            folded.push(row);
        }
    }
    flush(&mut run, &mut folded);
    folded
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::render::with_colors;
    use crate::cluster::{Action, Config};
    use crate::raft::ConflictHint;

    /// Text without its ANSI color codes.
    fn strip(text: &str) -> String {
        let mut plain = String::new();
        let mut escape = false;
        for c in text.chars() {
            match (escape, c) {
                (false, '\u{1b}') => escape = true,
                (true, 'm') => escape = false,
                (true, _) => {}
                (false, c) => plain.push(c),
            }
        }
        plain
    }

    /// Demo 9's election, stepped by hand.
    fn stepped_election() -> Cluster {
        let mut cluster = Cluster::new(Config::new(3).seed(2));
        for action in [
            Action::Timeout(1),
            Action::Deliver(1),
            Action::Deliver(3),
            Action::Deliver(2),
        ] {
            cluster.apply(&action).unwrap();
        }
        cluster
    }

    #[test]
    fn an_election_becomes_rows_in_the_traces_order() {
        let cluster = stepped_election();
        let timeline = timeline(&cluster, DEFAULT_TICKS, &[1, 2, 3]);
        assert_eq!((timeline.from_tick, timeline.to_tick), (0, 0));
        assert!(!timeline.truncated);
        // The whole trace is kept: the lanes begin as followers in term 0.
        assert!(
            timeline
                .lanes
                .iter()
                .all(|lane| lane.role == LaneRole::Follower && lane.term == Some(0))
        );
        let summary: Vec<String> = timeline
            .rows
            .iter()
            .map(|row| {
                let tags: Vec<String> = row
                    .tags
                    .iter()
                    .map(|(node, tag)| format!("n{node}:{tag}"))
                    .collect();
                let arrow = row.arrow.as_ref().map_or(String::new(), |arrow| {
                    format!(
                        "n{}→n{} {} {:?}",
                        arrow.from, arrow.to, arrow.label, arrow.fate
                    )
                });
                format!(
                    "{} {arrow} {}",
                    tags.join(","),
                    row.note.clone().unwrap_or_default()
                )
                .trim()
                .to_string()
            })
            .collect();
        assert_eq!(
            summary,
            [
                "n1:C1  n1 times out",
                "n1→n2 RV t1 Delivered { tick: 0 }",
                "n1→n3 RV t1 Delivered { tick: 0 }",
                "n2:F1  n2 votes for n1",
                "n2→n1 vote Delivered { tick: 0 }",
                "n1:L1  n1 leads term 1",
                "n1→n2 ♥ InFlight #4 in flight",
                "n1→n3 ♥ InFlight #5 in flight",
                "n3:F1  n3 votes for n1",
                "n3→n1 vote InFlight #6 in flight",
            ]
        );
        let last = timeline.rows.last().unwrap();
        assert_eq!(last.lanes[0].role, LaneRole::Leader);
    }

    #[test]
    fn the_picture_is_colored_by_role_and_plain_without_color() {
        let cluster = stepped_election();
        let colored = with_colors(|| draw(&timeline(&cluster, 5, &[1, 2, 3])));
        // The leader's mark and lane in green, bold.
        assert!(colored.contains("\u{1b}[1;32mL1"), "{colored:?}");
        let plain = strip(&colored);
        assert!(
            plain.contains("L1            │             │   n1 leads term 1"),
            "{plain}"
        );
        for line in plain.lines() {
            assert!(line.chars().count() <= draw::WIDTH, "{line}");
        }
        for line in draw::KEY {
            assert!(line.chars().count() <= draw::WIDTH, "{line}");
        }
    }

    #[test]
    fn heartbeats_fold_when_they_would_drown_the_picture() {
        let mut cluster = Cluster::new(Config::new(5).seed(4));
        cluster.tick(60);
        let rows = timeline(&cluster, 30, &[1, 2, 3, 4, 5]).rows;
        let folded: Vec<&Row> = rows.iter().filter(|row| row.heartbeats > 1).collect();
        assert!(!folded.is_empty(), "{rows:?}");
        assert!(folded[0].note.as_deref().unwrap().starts_with('♥'));
        // Only the last tick's heartbeats, still in flight, stay one by one.
        assert!(rows.len() < 12, "{rows:#?}");
        assert!(
            rows.iter()
                .filter(|row| row.heartbeats <= 1)
                .all(|row| matches!(
                    row.arrow,
                    Some(Arrow {
                        fate: Fate::InFlight,
                        ..
                    })
                ))
        );
        // Fewer than HEARTBEAT_RUN routine rows are no flood: they stay.
        let mut routine = rows.last().unwrap().clone();
        routine.arrow.as_mut().unwrap().fate = Fate::Delivered { tick: 60 };
        let few = vec![routine.clone(); HEARTBEAT_RUN - 1];
        assert_eq!(fold_heartbeats(few.clone()), few);
        let many = vec![routine; HEARTBEAT_RUN];
        let folded = fold_heartbeats(many);
        assert_eq!(folded.len(), 1);
        assert_eq!(folded[0].heartbeats, HEARTBEAT_RUN);
    }

    #[test]
    fn crashes_restarts_and_drops_are_marked() {
        let mut cluster = Cluster::new(Config::new(3).seed(2));
        cluster.tick(30);
        let leader = cluster.leader().unwrap();
        cluster.apply(&Action::Crash(leader)).unwrap();
        cluster.tick(3);
        cluster.apply(&Action::Restart(leader)).unwrap();
        cluster.tick(1);
        let rows = timeline(&cluster, 5, &[1, 2, 3]).rows;
        let tags: Vec<&str> = rows
            .iter()
            .flat_map(|row| row.tags.iter().map(|(_, tag)| tag.as_str()))
            .collect();
        assert!(tags.contains(&"╳") && tags.contains(&"↻"), "{rows:#?}");
        assert!(
            rows.iter().any(|row| matches!(
                row.arrow,
                Some(Arrow {
                    fate: Fate::Dropped {
                        reason: DropReason::Down
                    },
                    ..
                })
            )),
            "{rows:#?}"
        );
        let crashed = rows
            .iter()
            .position(|row| row.note.as_deref() == Some(&format!("n{leader} crashes")))
            .unwrap();
        assert_eq!(rows[crashed].lanes[leader - 1].role, LaneRole::Down);
    }

    #[test]
    fn a_window_older_than_the_trace_says_so() {
        // A trace that keeps few events has lost the start of a long window.
        let mut cluster = Cluster::new(Config {
            trace_capacity: 50,
            ..Config::new(3).seed(2)
        });
        cluster.tick(60);
        assert!(cluster.event_count() > 50);
        let long = timeline(&cluster, 60, &[1, 2, 3]);
        assert!(long.truncated);
        assert!(draw(&long).contains("the trace no longer holds the earliest of these ticks"));
        // The last tick's events are all kept: no such note.
        let short = timeline(&cluster, 1, &[1, 2, 3]);
        assert!(!short.truncated);
        assert!(!draw(&short).contains("no longer holds"));
        // Every lane still knows its node's role: one leader, as the cluster says.
        let leader = cluster.leader().unwrap();
        let lanes = &long.rows.last().unwrap().lanes;
        assert_eq!(lanes[leader - 1].role, LaneRole::Leader, "{lanes:?}");
    }

    #[test]
    fn labels_say_each_message_in_a_few_characters() {
        let cases = [
            (
                MessageInfo::RequestVote {
                    last_log_index: 3,
                    last_log_term: 1,
                },
                "RV t2",
            ),
            (
                MessageInfo::RequestVoteReply {
                    vote_granted: false,
                },
                "no vote",
            ),
            (
                MessageInfo::AppendEntries {
                    prev_log_index: 2,
                    prev_log_term: 1,
                    entries: Some((3, 5)),
                    leader_commit: 2,
                },
                "AE 3-5",
            ),
            (
                MessageInfo::AppendEntriesReply {
                    prev_log_index: 2,
                    outcome: AppendOutcome::Conflict(ConflictHint {
                        term: None,
                        first_index: 1,
                        log_end: 2,
                    }),
                },
                "conflict",
            ),
            (
                MessageInfo::InstallSnapshot {
                    last_included_index: 9,
                    last_included_term: 1,
                },
                "snap 9",
            ),
        ];
        for (message, expected) in cases {
            assert_eq!(label(&message, 2), expected);
        }
        let ack = MessageInfo::AppendEntriesReply {
            prev_log_index: 4,
            outcome: AppendOutcome::Accepted { match_index: 4 },
        };
        assert!(is_heartbeat(&ack));
        let progress = MessageInfo::AppendEntriesReply {
            prev_log_index: 4,
            outcome: AppendOutcome::Accepted { match_index: 6 },
        };
        assert!(!is_heartbeat(&progress));
    }
}
