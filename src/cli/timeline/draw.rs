//! The timeline as text: a header of node names, one line per [`Row`], and a key.
//!
//! Layout, for `n` lanes: the tick column, then lane `i` at column
//! `start + i × gap`, then the notes. The gap is chosen so that 5 nodes fit in 80
//! columns with room for notes; notes are cut to fit (with `…`). Each line is built as
//! cells (a character and a style) and colored run by run, so that without color it is
//! plain text of the same shape.

use colored::{ColoredString, Colorize};

use super::{Arrow, Fate, LaneRole, Row, Timeline};
use crate::cli::render::in_term_color;
use crate::raft::NodeId;

/// The width the picture keeps to (for up to 5 nodes at least).
pub const WIDTH: usize = 80;

/// Columns kept for notes when the lanes are placed.
const NOTES: usize = 24;

/// How a cell is colored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    /// As is.
    Plain,
    /// Dimmed (the tick column, down lanes, messages in flight).
    Dim,
    /// A lane or tag in its role's color.
    Role(LaneRole),
    /// A message, in its term's color.
    Term(u64),
    /// Red (a dropped message's ✗).
    Red,
    /// A violation: red and bold.
    Violation,
}

/// Where things go on a line.
struct Layout {
    /// Width of the tick column.
    tick_width: usize,
    /// Column of the first lane.
    start: usize,
    /// Columns between lanes.
    gap: usize,
    /// Column where notes begin.
    notes: usize,
}

impl Layout {
    fn new(lanes: usize, last_tick: u64) -> Layout {
        let tick_width = last_tick.to_string().len().max(4);
        let start = tick_width + 2;
        let spans = lanes.saturating_sub(1).max(1);
        let room = WIDTH.saturating_sub(start + 4 + NOTES);
        let gap = (room / spans).clamp(6, 14);
        let notes = start + gap * lanes.saturating_sub(1) + 4;
        Layout {
            tick_width,
            start,
            gap,
            notes,
        }
    }

    fn lane_column(&self, position: usize) -> usize {
        self.start + self.gap * position
    }
}

/// A line being drawn: cells of a character and a style.
struct Line(Vec<(char, Style)>);

impl Line {
    fn new(width: usize) -> Line {
        Line(vec![(' ', Style::Plain); width])
    }

    fn put(&mut self, column: usize, text: &str, style: Style) {
        for (offset, c) in text.chars().enumerate() {
            let at = column + offset;
            if at >= self.0.len() {
                self.0.resize(at + 1, (' ', Style::Plain));
            }
            self.0[at] = (c, style);
        }
    }

    fn get(&self, column: usize) -> char {
        self.0.get(column).map_or(' ', |cell| cell.0)
    }

    /// The line as text, colored by runs, without trailing spaces.
    fn render(&self) -> String {
        let end = self
            .0
            .iter()
            .rposition(|cell| cell.0 != ' ')
            .map_or(0, |last| last + 1);
        let mut text = String::new();
        let mut run = String::new();
        let mut style = Style::Plain;
        for &(c, cell_style) in &self.0[..end] {
            if cell_style != style && !run.is_empty() {
                text.push_str(&paint(&run, style).to_string());
                run.clear();
            }
            style = cell_style;
            run.push(c);
        }
        if !run.is_empty() {
            text.push_str(&paint(&run, style).to_string());
        }
        text
    }
}

fn paint(text: &str, style: Style) -> ColoredString {
    match style {
        Style::Plain => text.normal(),
        Style::Dim => text.dimmed(),
        Style::Role(LaneRole::Leader) => text.green().bold(),
        Style::Role(LaneRole::Candidate) => text.yellow(),
        Style::Role(LaneRole::Follower) => text.normal(),
        Style::Role(LaneRole::Down) => text.red().dimmed(),
        Style::Term(term) => in_term_color(term, text),
        Style::Red => text.red().bold(),
        Style::Violation => text.red().bold(),
    }
}

/// A lane's glyph: `┃` leader, `╎` candidate, `│` follower, blank while down.
fn glyph(role: LaneRole) -> char {
    match role {
        LaneRole::Leader => '┃',
        LaneRole::Candidate => '╎',
        LaneRole::Follower => '│',
        LaneRole::Down => ' ',
    }
}

/// The timeline as lines of text: header, rows, key.
pub fn draw(timeline: &Timeline) -> String {
    let lanes = &timeline.lanes;
    let layout = Layout::new(lanes.len(), timeline.to_tick);
    let mut lines = Vec::new();
    let span = if timeline.from_tick == timeline.to_tick {
        format!("tick {}", timeline.to_tick)
    } else {
        format!("ticks {}-{}", timeline.from_tick, timeline.to_tick)
    };
    lines.push(format!("timeline, {span}").bold().to_string());
    if timeline.truncated {
        lines.push(
            "(the trace no longer holds the earliest of these ticks)"
                .dimmed()
                .to_string(),
        );
    }
    let mut header = Line::new(WIDTH);
    header.put(layout.tick_width - 4, "tick", Style::Dim);
    let shown_lanes = timeline.rows.last().map_or(lanes, |row| &row.lanes);
    for (position, lane) in shown_lanes.iter().enumerate() {
        let name = format!("n{}", lane.node);
        header.put(layout.lane_column(position), &name, Style::Role(lane.role));
    }
    lines.push(header.render());
    if timeline.rows.is_empty() {
        lines.push(format!(
            "{:>width$}  nothing happened",
            "",
            width = layout.tick_width
        ));
    }
    let mut previous_tick = None;
    for row in &timeline.rows {
        let show_tick = previous_tick != Some(row.tick);
        lines.push(draw_row(&layout, row, show_tick));
        previous_tick = Some(row.last_tick);
    }
    lines.extend(key());
    lines.join("\n")
}

/// One row: the lanes in their roles after it, a tag where a lane changed, the
/// arrow of a message sent, and the note.
fn draw_row(layout: &Layout, row: &Row, show_tick: bool) -> String {
    let mut line = Line::new(WIDTH);
    if show_tick {
        let tick = format!("{:>width$}", row.tick, width = layout.tick_width);
        line.put(0, &tick, Style::Dim);
    }
    let position_of = |node: NodeId| row.lanes.iter().position(|lane| lane.node == node);
    for (position, lane) in row.lanes.iter().enumerate() {
        let style = Style::Role(lane.role);
        line.put(
            layout.lane_column(position),
            &glyph(lane.role).to_string(),
            style,
        );
    }
    let mut tag_end = vec![0usize; row.lanes.len()];
    for (node, tag) in &row.tags {
        if let Some(position) = position_of(*node) {
            let column = layout.lane_column(position);
            line.put(column, tag, Style::Role(row.lanes[position].role));
            tag_end[position] = tag.chars().count();
        }
    }
    if let Some(arrow) = &row.arrow
        && let (Some(from), Some(to)) = (position_of(arrow.from), position_of(arrow.to))
    {
        draw_arrow(&mut line, layout, arrow, (from, to), &row.lanes, &tag_end);
    }
    if let Some(note) = &row.note {
        let room = WIDTH.saturating_sub(layout.notes);
        let style = if row.violation {
            Style::Violation
        } else {
            Style::Plain
        };
        line.put(layout.notes, &fit(note, room.max(12)), style);
    }
    line.render()
}

/// A message from lane `from` to lane `to`, drawn on the sender's row.
fn draw_arrow(
    line: &mut Line,
    layout: &Layout,
    arrow: &Arrow,
    (from, to): (usize, usize),
    lanes: &[super::Lane],
    tag_end: &[usize],
) {
    let sender_role = lanes[from].role;
    let style = match arrow.fate {
        Fate::InFlight => Style::Dim,
        Fate::Delivered { .. } | Fate::Dropped { .. } => Style::Term(arrow.term),
    };
    let (start, end) = (layout.lane_column(from), layout.lane_column(to));
    let rightwards = start < end;
    let head = match (&arrow.fate, rightwards) {
        (Fate::Delivered { .. }, true) => '▶',
        (Fate::Delivered { .. }, false) => '◀',
        (Fate::InFlight, true) => '▷',
        (Fate::InFlight, false) => '◁',
        (Fate::Dropped { .. }, _) => '✗',
    };
    let head_style = if matches!(arrow.fate, Fate::Dropped { .. }) {
        Style::Red
    } else {
        style
    };
    // The shaft runs between the lanes; where it crosses a lane of a node that is up
    // it shows a cross.
    let (low, high) = if rightwards {
        (start, end)
    } else {
        (end, start)
    };
    let crossings: Vec<usize> = (0..lanes.len())
        .filter(|&position| lanes[position].role != LaneRole::Down)
        .map(|position| layout.lane_column(position))
        .filter(|&column| column > low && column < high)
        .collect();
    // A tag on the sender's lane stays; the shaft begins after it.
    let sender_tag = tag_end[from];
    let (shaft_from, shaft_to) = if rightwards {
        (start + sender_tag.max(1), end - 1)
    } else {
        (end + 1, start - 1)
    };
    for column in shaft_from..=shaft_to {
        let c = if crossings.contains(&column) {
            '┼'
        } else {
            '─'
        };
        line.put(column, &c.to_string(), style);
    }
    if sender_tag == 0 {
        let joint = match (sender_role, rightwards) {
            (LaneRole::Leader, true) => '┣',
            (LaneRole::Leader, false) => '┫',
            (_, true) => '├',
            (_, false) => '┤',
        };
        line.put(start, &joint.to_string(), Style::Role(sender_role));
    }
    let head_column = if rightwards { end - 1 } else { end + 1 };
    line.put(head_column, &head.to_string(), head_style);
    // The label sits just past the arrow's tail end, inside the shaft.
    let label_room = shaft_to.saturating_sub(shaft_from).saturating_sub(2);
    let label = fit(&arrow.label, label_room);
    let label_column = if rightwards {
        shaft_from + 1
    } else {
        head_column + 2
    };
    if !label.is_empty() && line.get(label_column) != ' ' {
        line.put(label_column, &label, style);
    }
}

/// `text` cut to `room` characters, with `…` if cut.
fn fit(text: &str, room: usize) -> String {
    if text.chars().count() <= room {
        return text.to_string();
    }
    if room == 0 {
        return String::new();
    }
    let mut cut: String = text.chars().take(room - 1).collect();
    cut.push('…');
    cut
}

/// What the marks mean, in lines of at most 80 columns.
pub const KEY: [&str; 3] = [
    "key: lanes ┃ leader  ╎ candidate  │ follower  (blank: down)   ╳ crash  ↻ restart",
    "     C1 L1 F2: becomes candidate, leader, follower in that term   ♥ heartbeat",
    "     arrows ▶ delivered  ✗ dropped  ▷ in flight  RV vote request  AE 3-5 entries",
];

fn key() -> Vec<String> {
    KEY.iter().map(|line| line.dimmed().to_string()).collect()
}
