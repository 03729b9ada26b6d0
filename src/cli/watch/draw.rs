//! Drawing one frame: a [`Scene`] and the [`Ui`] state in, ratatui widgets out. No
//! cluster, no terminal: tests draw on ratatui's `TestBackend` and compare the text.
//!
//! The screen, top to bottom (80×24 holds 5 nodes):
//!
//! ```text
//!  title: tick, clock, seed, leader, violations
//!  nodes (role, term, vote, election timer draining) │ messages in flight
//!  logs: one row per node, one cell per index, colored by term, commit marked
//!  events: the trace's recent lines
//!  the last command and what it said (or the `:` line being typed)
//!  the keys
//! ```
//!
//! Colors follow the prompt's: leaders green, candidates yellow, down nodes red, and
//! each term its own color (cycling through six) in logs and messages.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::scene::{LogWindow, NodeRow, Scene};
use super::state::{Feedback, KEYS, Overlay, Ui};
use crate::cli::render::event_text;
use crate::cluster::router::InFlight;
use crate::cluster::trace::{TraceEvent, TraceKind};
use crate::raft::{AppendOutcome, Event, Message, Role, Term};

/// The smallest screen the dashboard draws on.
pub const MIN_SIZE: (u16, u16) = (60, 14);
/// The width of the nodes panel when the screen is wide enough for both panels.
const NODES_WIDTH: u16 = 46;
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

/// A role in words (a down node is "down").
fn role_word(row: &NodeRow) -> &'static str {
    if !row.status.up {
        return "down";
    }
    match row.status.role {
        Role::Leader => "leader",
        Role::Candidate => "candidate",
        Role::Follower => "follower",
    }
}

/// A term's color, cycling through six as the prompt's log view does.
pub fn term_color(term: Term) -> Color {
    match term % 6 {
        0 => Color::White,
        1 => Color::Blue,
        2 => Color::Magenta,
        3 => Color::Cyan,
        4 => Color::Yellow,
        _ => Color::Green,
    }
}

fn dim() -> Style {
    Style::new().add_modifier(Modifier::DIM)
}

fn bold() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

/// A panel with only a top rule carrying its title (full borders cost two rows).
fn panel(title: Line<'_>) -> Block<'_> {
    Block::new()
        .borders(Borders::TOP)
        .border_style(dim())
        .title(title)
}

/// Draws the whole frame.
pub fn draw(frame: &mut Frame, scene: &Scene, ui: &Ui) {
    let area = frame.area();
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        let text = format!(
            "raft-playground watch needs a terminal of at least {}×{} (this one is {}×{}); q quits",
            MIN_SIZE.0, MIN_SIZE.1, area.width, area.height
        );
        frame.render_widget(
            Paragraph::new(text).wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
        return;
    }
    let nodes = scene.nodes.len() as u16;
    // Rows: title, nodes panel, logs panel, events panel, feedback, keys. The events
    // take what is left; on a short screen the logs and then the nodes give way.
    let middle = area.height - 3;
    let events_min = 3;
    let mut top = nodes + 1;
    let mut logs = if scene.logs.last == 0 { 2 } else { nodes + 2 };
    if top + logs + events_min > middle {
        logs = middle.saturating_sub(top + events_min).max(3);
    }
    if top + logs + events_min > middle {
        top = middle.saturating_sub(logs + events_min).max(3);
    }
    let events = middle - top - logs;
    let row = |y: u16, height: u16| Rect::new(area.x, y, area.width, height);
    let title_area = row(area.y, 1);
    let top_area = row(area.y + 1, top);
    let logs_area = row(top_area.bottom(), logs);
    let events_area = row(logs_area.bottom(), events);
    let feedback_area = row(events_area.bottom(), 1);
    let keys_area = row(feedback_area.bottom(), 1);

    draw_title(frame, title_area, scene);
    let nodes_width = if area.width >= 80 {
        NODES_WIDTH
    } else {
        area.width * 4 / 7
    };
    let nodes_area = Rect::new(top_area.x, top_area.y, nodes_width, top_area.height);
    let messages_area = Rect::new(
        nodes_area.right(),
        top_area.y,
        top_area.width - nodes_width,
        top_area.height,
    );
    draw_nodes(frame, nodes_area, scene, ui);
    draw_messages(frame, messages_area, scene);
    draw_logs(frame, logs_area, &scene.logs, ui);
    draw_events(frame, events_area, scene);
    draw_feedback(frame, feedback_area, ui);
    draw_keys(frame, keys_area, ui);
    match &ui.overlay {
        Overlay::None | Overlay::Prompt(_) => {}
        Overlay::Help => draw_help(frame, area),
        Overlay::Output { title, lines } => draw_output(frame, area, title, lines),
    }
}

/// The top line: what the session is and where it stands.
fn draw_title(frame: &mut Frame, area: Rect, scene: &Scene) {
    let bar = Style::new().add_modifier(Modifier::REVERSED);
    let clock = if scene.clock.running {
        format!("▶ {} ms/tick", scene.clock.interval.as_millis())
    } else {
        "❚❚ paused".to_string()
    };
    let leader = match scene.leader {
        Some(id) => {
            let term = scene.node(id).map_or(0, |row| row.status.term);
            format!("leader n{id} t{term}")
        }
        None => "no leader".to_string(),
    };
    let mut spans = vec![
        Span::styled(" raft-playground watch ", bar.add_modifier(Modifier::BOLD)),
        Span::styled(format!(" tick {} ", scene.tick), bar),
        Span::styled(format!(" {clock} "), bar),
        Span::styled(format!(" {leader} "), bar),
        Span::styled(format!(" seed {} ", scene.seed), bar),
    ];
    spans.push(match scene.violations.len() {
        0 => Span::styled(" ✓ safe ", bar),
        count => Span::styled(
            format!(" ⚠ {count} VIOLATION{} ", if count == 1 { "" } else { "S" }),
            Style::new()
                .bg(Color::Red)
                .fg(Color::White)
                .add_modifier(Modifier::BOLD),
        ),
    });
    frame.render_widget(Paragraph::new(Line::from(spans)).style(bar), area);
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
fn draw_nodes(frame: &mut Frame, area: Rect, scene: &Scene, ui: &Ui) {
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
        } => format!("vote? log {last_log_index}@t{last_log_term}"),
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
fn draw_messages(frame: &mut Frame, area: Rect, scene: &Scene) {
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
fn draw_logs(frame: &mut Frame, area: Rect, logs: &LogWindow, ui: &Ui) {
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
        TraceKind::Crashed => Style::new().fg(Color::Red),
        TraceKind::Raft { event } => match event {
            Event::BecameLeader { .. } => Style::new().fg(Color::Green),
            Event::ElectionTimeout { .. } | Event::SteppedDown { .. } => {
                Style::new().fg(Color::Yellow)
            }
            Event::VoteGranted { .. }
            | Event::VoteDenied { .. }
            | Event::Appended { .. }
            | Event::Truncated { .. }
            | Event::Committed { .. }
            | Event::SnapshotTaken { .. }
            | Event::SnapshotInstalled { .. } => Style::new(),
        },
        TraceKind::Dropped { .. } => dim(),
        TraceKind::Applied { .. }
        | TraceKind::SnapshotLoaded { .. }
        | TraceKind::Restarted
        | TraceKind::Disconnected
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
fn draw_events(frame: &mut Frame, area: Rect, scene: &Scene) {
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

/// The `:` line being typed, or what the last command said.
fn draw_feedback(frame: &mut Frame, area: Rect, ui: &Ui) {
    let line = match (&ui.overlay, &ui.feedback) {
        (Overlay::Prompt(text), _) => {
            let width = text.chars().count() as u16 + 1;
            frame.set_cursor_position(Position::new(
                area.x + width.min(area.width.saturating_sub(1)),
                area.y,
            ));
            Line::from(vec![Span::styled(":", bold()), Span::raw(text.clone())])
        }
        (_, Some(Feedback::Done { line, text })) => Line::from(vec![
            Span::styled(format!("> {line}  "), bold()),
            Span::raw(text.clone()),
        ]),
        (_, Some(Feedback::Failed { line, text })) => {
            let mut spans = Vec::new();
            if !line.is_empty() {
                spans.push(Span::styled(format!("> {line}  "), bold()));
            }
            spans.push(Span::styled(
                format!("✗ {text}"),
                Style::new().fg(Color::Red),
            ));
            Line::from(spans)
        }
        (_, Some(Feedback::Busy(line))) => Line::from(vec![
            Span::styled(format!("> {line}  "), bold()),
            Span::styled("running… (Ctrl-C stops it)", Style::new().fg(Color::Yellow)),
        ]),
        (_, None) => Line::styled("? shows the keys; : types a command", dim()),
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// The main keys, as many as fit.
fn draw_keys(frame: &mut Frame, area: Rect, ui: &Ui) {
    let keys: &[(&str, &str)] = match ui.overlay {
        Overlay::Prompt(_) => &[("Enter", "run"), ("Esc", "cancel")],
        Overlay::Help | Overlay::Output { .. } => &[("any key", "closes this")],
        Overlay::None => &[
            ("c", "crash"),
            ("r", "restart"),
            ("d", "disconnect"),
            ("p", "partition"),
            ("s", "submit"),
            ("␣", "pause"),
            (".", "step"),
            ("n", "deliver"),
            (":", "command"),
            ("?", "help"),
            ("q", "quit"),
        ],
    };
    let mut spans = vec![Span::styled(format!("n{} ", ui.selected), bold())];
    let mut width = spans[0].width();
    for (key, what) in keys {
        let item = format!("{key} {what}  ");
        width += item.chars().count();
        if width > area.width as usize {
            break;
        }
        spans.push(Span::styled((*key).to_string(), bold()));
        spans.push(Span::styled(format!(" {what}  "), dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A box in the middle of the screen, cleared, with a border and a title.
fn popup(frame: &mut Frame, area: Rect, width: u16, height: u16, title: String) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    let rect = Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    );
    frame.render_widget(Clear, rect);
    let block = Block::bordered().title(Line::styled(title, bold()));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    inner
}

/// The key help.
fn draw_help(frame: &mut Frame, area: Rect) {
    let inner = popup(
        frame,
        area,
        66,
        KEYS.len() as u16 + 4,
        " keys (any key closes) ".to_string(),
    );
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|(keys, what)| {
            Line::from(vec![
                Span::styled(format!(" {keys:<12}"), bold()),
                Span::raw(*what),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        " Every key runs a prompt command, shown at the bottom.",
        dim(),
    ));
    frame.render_widget(Paragraph::new(lines), inner);
}

/// A `:` command's output.
fn draw_output(frame: &mut Frame, area: Rect, title: &str, lines: &[String]) {
    let height = (lines.len() as u16 + 2).min(area.height.saturating_sub(2));
    let inner = popup(
        frame,
        area,
        area.width.saturating_sub(2),
        height,
        format!(" > {title} (any key closes) "),
    );
    let rows = inner.height as usize;
    let mut shown: Vec<Line> = lines
        .iter()
        .take(rows)
        .map(|line| Line::raw(line.clone()))
        .collect();
    if lines.len() > rows
        && let Some(last) = shown.last_mut()
    {
        *last = Line::styled(format!("… {} more lines", lines.len() - rows + 1), dim());
    }
    frame.render_widget(Paragraph::new(shown), inner);
}
