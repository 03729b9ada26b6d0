//! The dashboard's panels: the nodes with their draining timers, the messages in
//! flight, the log grid and the events. Each draws one part of a [`Scene`] into the
//! area [`super::draw`] gave it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Borders, Paragraph};

use super::draw::{bold, dim, panel, term_color};
use super::scene::{LogWindow, NodeRow, Scene};
use super::state::Ui;
use crate::cli::render::{self, event_text};
use crate::cluster::router::InFlight;
use crate::cluster::trace::{TraceEvent, TraceKind};
use crate::raft::{AppendOutcome, Event, Message, Role};

/// The width of a timer bar.
const BAR_WIDTH: usize = 10;
/// The width of a message's track (where its dot moves from sender to recipient).
const TRACK_WIDTH: usize = 5;
/// The width of a log row's label (`n12 c123`).
const LOG_LABEL: u16 = 9;

/// A node's role color: leader green, candidate yellow, follower plain, down red.
fn role_style(row: &NodeRow) -> Style {
    if !row.status.up {
        return Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
    }
    match row.status.role {
        Role::Leader => Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
        Role::Candidate => Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        Role::Follower => Style::new(),
    }
}

/// A role in words (a down node is "down"), short enough for the panel's column.
fn role_word(row: &NodeRow) -> &'static str {
    match render::role_word(&row.status) {
        "candidate" if row.status.pre_candidate => "pre-cand",
        word => word,
    }
}

/// The election timer as a draining bar, and the ticks left on it.
fn timer(row: &NodeRow) -> (String, String) {
    let status = &row.status;
    match (status.timer_length, status.timer_elapsed) {
        (Some(length), Some(elapsed)) if length > 0 && status.up => {
            let left = length.saturating_sub(elapsed);
            let full = ((left as usize * BAR_WIDTH) + length as usize / 2) / length as usize;
            let full = full.min(BAR_WIDTH);
            let bar = format!("{}{}", "█".repeat(full), "░".repeat(BAR_WIDTH - full));
            let label = if status.role == Role::Leader {
                format!("hb {left}")
            } else {
                left.to_string()
            };
            (bar, label)
        }
        _ => (" ".repeat(BAR_WIDTH), String::new()),
    }
}

/// Whom a node cannot reach, if anyone: `cut` when disconnected, `alone` when it
/// reaches nobody, else `✂` and the ids it is cut from.
fn links(row: &NodeRow, size: usize) -> String {
    if !row.status.connected {
        "cut".to_string()
    } else if row.links.len() + 1 == size {
        String::new()
    } else if row.links.is_empty() {
        "alone".to_string()
    } else {
        let cut: Vec<String> = (1..=size)
            .filter(|&id| id != row.status.id && !row.links.contains(&id))
            .map(|id| id.to_string())
            .collect();
        format!("✂{}", cut.join(","))
    }
}

/// The nodes: one line each, the selected one marked.
pub(super) fn nodes(frame: &mut Frame, area: Rect, scene: &Scene, ui: &Ui) {
    // The title doubles as the column header.
    let title = Line::from(vec![
        Span::styled("node", bold()),
        Span::styled(" role      term vote  timer         links", dim()),
    ]);
    let block = panel(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // Scroll so the selected node stays in view on a short screen.
    let size = scene.nodes.len();
    let visible = inner.height as usize;
    let offset = ui.selected.min(size).saturating_sub(visible);
    let lines: Vec<Line> = scene
        .nodes
        .iter()
        .skip(offset)
        .take(visible)
        .map(|row| {
            let status = &row.status;
            let selected = status.id == ui.selected;
            let style = role_style(row);
            let name_style = if selected {
                style.add_modifier(Modifier::REVERSED)
            } else {
                style
            };
            let (bar, label) = timer(row);
            let bar_style = match (status.up, status.role) {
                (false, _) => dim(),
                (true, Role::Leader) => Style::new().fg(Color::Green),
                (true, Role::Candidate) => Style::new().fg(Color::Yellow),
                (true, Role::Follower) => Style::new().fg(Color::Blue),
            };
            let vote = status
                .voted_for
                .map_or("-".to_string(), |id| format!("→n{id}"));
            let links = links(row, size);
            Line::from(vec![
                Span::styled(if selected { "▶" } else { " " }, bold()),
                Span::styled(format!("{:<3}", format!("n{}", status.id)), name_style),
                Span::raw(" "),
                Span::styled(format!("{:<9}", role_word(row)), style),
                Span::styled(
                    format!(" {:<4}", format!("t{}", status.term)),
                    Style::new().fg(term_color(status.term)),
                ),
                Span::raw(format!(" {vote:<4} ")),
                Span::styled(bar, bar_style),
                Span::raw(format!(" {label:<4} ")),
                Span::styled(links, Style::new().fg(Color::Red)),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// A message in a few words (the `messages` view has the long form).
fn message_words(message: &Message) -> String {
    match message {
        Message::RequestVote {
            last_log_index,
            last_log_term,
            leadership_transfer,
        } => {
            let transfer = if *leadership_transfer {
                " (transfer)"
            } else {
                ""
            };
            format!("vote? log {last_log_index}@t{last_log_term}{transfer}")
        }
        Message::PreVote {
            last_log_index,
            last_log_term,
        } => format!("pre-vote? log {last_log_index}@t{last_log_term}"),
        Message::PreVoteReply { vote_granted } => if *vote_granted {
            "pre-vote ✓"
        } else {
            "pre-vote ✗"
        }
        .to_string(),
        Message::TimeoutNow => "timeout now".to_string(),
        Message::RequestVoteReply { vote_granted } => if *vote_granted {
            "vote ✓"
        } else {
            "vote ✗"
        }
        .to_string(),
        Message::AppendEntries {
            entries,
            leader_commit,
            ..
        } => match (entries.first(), entries.last()) {
            (Some(first), Some(last)) if first.index == last.index => {
                format!("append {} c{leader_commit}", first.index)
            }
            (Some(first), Some(last)) => {
                format!("append {}..{} c{leader_commit}", first.index, last.index)
            }
            _ => format!("heartbeat c{leader_commit}"),
        },
        Message::AppendEntriesReply { outcome, .. } => match outcome {
            AppendOutcome::Accepted { match_index } => format!("append ✓ {match_index}"),
            AppendOutcome::Conflict(_) => "append ✗ conflict".to_string(),
            AppendOutcome::StaleTerm => "append ✗ stale".to_string(),
        },
        Message::InstallSnapshot { snapshot } => {
            format!("snapshot ≤{}", snapshot.last_included_index)
        }
        Message::InstallSnapshotReply { installed_index } => match installed_index {
            Some(index) => format!("snapshot ✓ {index}"),
            None => "snapshot ✗ stale".to_string(),
        },
    }
}

/// A message's track: a dot that moves from sender to recipient as its due tick
/// nears.
fn track(message: &InFlight, now: u64) -> String {
    // Between ticks a message sent at `sent_at` is half-way through its current
    // tick of travel: a one-tick message sits in the middle of its track.
    let span = message.due.saturating_sub(message.sent_at).max(1) as usize;
    let done = now.saturating_sub(message.sent_at) as usize;
    let at = ((2 * done + 1) * (TRACK_WIDTH - 1) / (2 * span)).min(TRACK_WIDTH - 1);
    (0..TRACK_WIDTH)
        .map(|position| if position == at { '●' } else { '─' })
        .collect()
}

/// Messages in flight, next to be delivered first.
pub(super) fn messages(frame: &mut Frame, area: Rect, scene: &Scene) {
    let mut title = vec![Span::styled(
        format!(" in flight: {} ", scene.message_count),
        bold(),
    )];
    if let Some(next) = scene.messages.first() {
        title.push(Span::styled(format!("next #{} ", next.id), dim()));
    }
    let block = panel(Line::from(title)).borders(Borders::TOP | Borders::LEFT);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = inner.height as usize;
    let more = scene.message_count.saturating_sub(rows);
    let shown = if more > 0 {
        rows.saturating_sub(1)
    } else {
        rows
    };
    let mut lines: Vec<Line> = scene
        .messages
        .iter()
        .take(shown)
        .map(|message| {
            let envelope = &message.envelope;
            let style = Style::new().fg(term_color(envelope.term));
            let style = if envelope.message.is_request() {
                style
            } else {
                style.add_modifier(Modifier::DIM)
            };
            Line::from(vec![
                Span::raw(format!("n{}→n{} ", envelope.from, envelope.to)),
                Span::styled(track(message, scene.tick), style),
                Span::styled(format!(" {}", message_words(&envelope.message)), style),
            ])
        })
        .collect();
    if more > 0 {
        let hidden = scene.message_count - shown;
        lines.push(Line::styled(
            format!("… {hidden} more (:messages lists them)"),
            dim(),
        ));
    }
    if scene.message_count == 0 {
        lines.push(Line::styled("(none)", dim()));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The log grid: one cell per index, the entry's term in its color; committed
/// entries filled, `▏` where the committed part ends, `▒` inside a snapshot.
pub(super) fn logs(frame: &mut Frame, area: Rect, logs: &LogWindow, ui: &Ui) {
    if logs.last == 0 {
        let block = panel(Line::styled(" logs ", bold()));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        frame.render_widget(
            Paragraph::new(Line::styled("every log is empty", dim())),
            inner,
        );
        return;
    }
    let cell = (logs.last.to_string().len() as u16).max(2) + 1;
    let fits = (area.width.saturating_sub(LOG_LABEL) / cell).max(1) as u64;
    let first = logs.first.max(logs.last.saturating_sub(fits - 1));
    let title = Line::from(vec![
        Span::styled(format!(" logs {first}..{} ", logs.last), bold()),
        Span::styled(
            "each cell: an entry's term; ▏ ends the committed part ",
            dim(),
        ),
    ]);
    let block = panel(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = cell as usize - 1;
    let mut header = format!("{:<width$}", "index", width = LOG_LABEL as usize);
    for index in first..=logs.last {
        header.push_str(&format!(" {index:>width$}"));
    }
    let mut lines = vec![Line::styled(header, dim())];
    let rows = inner.height.saturating_sub(1) as usize;
    let offset = ui.selected.min(logs.rows.len()).saturating_sub(rows);
    for row in logs.rows.iter().skip(offset).take(rows) {
        let mut spans = vec![Span::styled(
            format!(
                "{:<width$}",
                format!("n{} c{}", row.id, row.commit_index),
                width = LOG_LABEL as usize
            ),
            if row.id == ui.selected {
                bold()
            } else {
                Style::new()
            },
        )];
        // The mark before each cell is `▏` where the committed part ends; one more
        // mark after the last cell shows a log committed to its end.
        let mark = |index: u64| {
            if index == row.commit_index + 1 && row.commit_index > 0 {
                "▏"
            } else {
                " "
            }
        };
        for index in first..=logs.last {
            let slot = (index - logs.first) as usize;
            spans.push(Span::styled(mark(index), bold()));
            if index <= row.snapshot_index {
                spans.push(Span::styled("▒".repeat(width), dim()));
                continue;
            }
            match row.terms.get(slot).copied().flatten() {
                Some(term) => {
                    let style = Style::new().fg(term_color(term));
                    let style = if index <= row.commit_index {
                        style.add_modifier(Modifier::REVERSED)
                    } else {
                        style
                    };
                    spans.push(Span::styled(format!("{term:>width$}"), style));
                }
                None => spans.push(Span::raw(" ".repeat(width))),
            }
        }
        spans.push(Span::styled(mark(logs.last + 1), bold()));
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// An event's style: elections and leaders stand out, crashes and violations in red.
fn event_style(event: &TraceEvent) -> Style {
    match &event.kind {
        TraceKind::Violation { .. } => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        TraceKind::Rule { broken: true, .. } => Style::new().fg(Color::Magenta),
        TraceKind::Crashed => Style::new().fg(Color::Red),
        TraceKind::Raft { event } => match event {
            Event::BecameLeader { .. } => Style::new().fg(Color::Green),
            Event::ElectionTimeout { .. }
            | Event::SteppedDown { .. }
            | Event::LostQuorum { .. }
            | Event::LeftCluster { .. }
            | Event::TransferAborted { .. } => Style::new().fg(Color::Yellow),
            Event::TransferStarted { .. } | Event::ConfigurationChanged { .. } => {
                Style::new().fg(Color::Cyan)
            }
            Event::VoteGranted { .. }
            | Event::VoteDenied { .. }
            | Event::Appended { .. }
            | Event::Truncated { .. }
            | Event::Committed { .. }
            | Event::SnapshotTaken { .. }
            | Event::SnapshotInstalled { .. }
            | Event::PreVoteStarted { .. }
            | Event::PreVoteGranted { .. }
            | Event::PreVoteDenied { .. }
            | Event::VoteIgnored { .. }
            | Event::TimeoutNowReceived { .. } => Style::new(),
            // A receiver's decisions: routine, in the background.
            Event::StaleTermIgnored { .. }
            | Event::VoteCounted { .. }
            | Event::AppendRejected { .. }
            | Event::ProgressUpdated { .. } => dim(),
        },
        TraceKind::Removed { .. } => Style::new().fg(Color::Yellow),
        TraceKind::Added => Style::new().fg(Color::Cyan),
        TraceKind::Partitioned { .. } | TraceKind::Disconnected => Style::new().fg(Color::Yellow),
        TraceKind::Dropped { .. } | TraceKind::Sent { .. } | TraceKind::Delivered { .. } => dim(),
        TraceKind::Healed
        | TraceKind::Applied { .. }
        | TraceKind::SnapshotLoaded { .. }
        | TraceKind::Restarted
        | TraceKind::Rule { broken: false, .. }
        | TraceKind::Connected => Style::new(),
    }
}

/// Events that happened at the same tick with the same words to several nodes (votes,
/// appends, commits), merged into one line: (tick, nodes, the first event).
fn merge_events(events: &[TraceEvent]) -> Vec<(u64, Vec<usize>, &TraceEvent)> {
    let mut merged: Vec<(u64, Vec<usize>, &TraceEvent)> = Vec::new();
    for event in events {
        match merged.last_mut() {
            Some((tick, nodes, first))
                if *tick == event.tick
                    && first.kind == event.kind
                    && !nodes.contains(&event.node) =>
            {
                nodes.push(event.node)
            }
            _ => merged.push((event.tick, vec![event.node], event)),
        }
    }
    merged
}

/// Node ids as `n2` or `n2,3,5`.
fn node_list(nodes: &[usize]) -> String {
    let ids: Vec<String> = nodes.iter().map(|id| id.to_string()).collect();
    format!("n{}", ids.join(","))
}

/// The newest events that fit, oldest at the top.
pub(super) fn events(frame: &mut Frame, area: Rect, scene: &Scene) {
    let block = panel(Line::styled(" events ", bold()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = inner.height as usize;
    let merged = merge_events(&scene.events);
    let skip = merged.len().saturating_sub(rows);
    let mut lines: Vec<Line> = merged
        .iter()
        .skip(skip)
        .map(|(tick, nodes, event)| {
            Line::from(vec![
                Span::styled(format!("{tick:>6} "), dim()),
                Span::styled(format!("{:<3} ", node_list(nodes)), bold()),
                Span::styled(event_text(&event.kind), event_style(event)),
            ])
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::styled("nothing has happened yet", dim()));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
