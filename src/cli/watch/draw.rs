//! Drawing one frame: a [`Scene`] and the [`Ui`] state in, ratatui widgets out. No
//! cluster, no terminal: tests draw on ratatui's `TestBackend` and compare the text.
//! This file lays the screen out and draws its frame (title, bottom lines, help and
//! output overlays); the cluster's panels are in `panels.rs`.
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

use super::panels;
use super::scene::Scene;
use super::state::{Feedback, KEYS, Overlay, Ui};
use crate::raft::Term;

/// The smallest screen the dashboard draws on.
pub const MIN_SIZE: (u16, u16) = (60, 14);
/// The width of the nodes panel when the screen is wide enough for both panels.
const NODES_WIDTH: u16 = 46;
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

pub(super) fn dim() -> Style {
    Style::new().add_modifier(Modifier::DIM)
}

pub(super) fn bold() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

/// A panel with only a top rule carrying its title (full borders cost two rows).
pub(super) fn panel(title: Line<'_>) -> Block<'_> {
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
    panels::nodes(frame, nodes_area, scene, ui);
    panels::messages(frame, messages_area, scene);
    panels::logs(frame, logs_area, &scene.logs, ui);
    panels::events(frame, events_area, scene);
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
