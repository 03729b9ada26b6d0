//! The `log` view's grid: one row per node, one column per log index, each entry
//! shown by its term (in the term's color), so where logs agree and where they
//! diverge is visible at a glance (the way Figures 6, 7 and 8 of the paper draw them).
//!
//! What a node knows is committed and what it does not are told apart without color:
//! an entry past the node's commit index carries a `*`, and `▏` stands right after
//! the commit index. The grid shows as many indexes as fit the width (80 columns
//! unless the terminal is wider); `log FROM..TO` pages through a longer log.

use colored::Colorize;
use serde::Serialize;

use super::render::{entry_payload, in_term_color, node_name, visible_width};
use crate::cluster::NodeStatus;
use crate::raft::{EntryKind, Index, Log};

/// One node's log for the `log` view.
#[derive(Debug, Serialize)]
pub struct LogRow {
    /// The node's status.
    pub status: NodeStatus,
    /// Its log.
    pub log: Log,
}

/// The width of the label column (`n12 c1234` and a space).
const LABEL: usize = 12;

/// The legend under every grid.
pub const LEGEND: &str = "each cell is an entry's term; * marks one its node does not know committed; ▏ follows the commit index cN; # is inside a snapshot";

/// Digits in a number's decimal form.
fn digits(number: u64) -> usize {
    number.to_string().len()
}

/// The `log` grid for `rows`, showing `range` (inclusive; the newest indexes that fit
/// when `None`) in at most `width` columns.
pub fn log_grid(rows: &[LogRow], range: Option<(Index, Index)>, width: usize) -> String {
    let last = rows
        .iter()
        .map(|row| row.status.last_log_index)
        .max()
        .unwrap_or(0);
    if last == 0 {
        return "every log is empty".dimmed().to_string();
    }
    let max_term = rows
        .iter()
        .flat_map(|row| row.log.iter().map(|entry| entry.term))
        .max()
        .unwrap_or(0);
    // A cell holds an index in the header, and a term with its `*` in a row (and the
    // mark of a no-op or configuration entry, `·` or `m`, when there is one).
    let marked = rows
        .iter()
        .any(|row| row.log.iter().any(|entry| !entry.kind.is_command()));
    let end = range.map_or(last, |(_, to)| to.min(last));
    let cell = digits(end)
        .max(digits(max_term) + 1 + usize::from(marked))
        .max(2);
    let fits = (width.saturating_sub(LABEL + 1) / (cell + 1)).max(1) as u64;
    let (first, end) = match range {
        Some((from, _)) if from > last => {
            return format!("no entries at {from} or after: the logs end at {last}")
                .dimmed()
                .to_string();
        }
        Some((from, to)) => (from.max(1), to.min(last).min(from.max(1) + fits - 1)),
        None => (last.saturating_sub(fits - 1).max(1), last),
    };
    let mut lines = Vec::new();
    let mut header = format!("{:<LABEL$}", "index");
    for index in first..=end {
        header.push_str(&format!(" {index:>cell$}"));
    }
    lines.push(header.trim_end().bold().to_string());
    for row in rows {
        lines.push(grid_row(row, first, end, cell));
    }
    // One node: its commands too, a line per entry.
    if let [row] = rows {
        let width = digits(end);
        for index in first..=end {
            if let Some(entry) = row.log.get(index) {
                let term = in_term_color(entry.term, &format!("t{}", entry.term));
                let mark = if index > row.status.commit_index {
                    "*"
                } else {
                    " "
                };
                let what = match &entry.kind {
                    EntryKind::Command => entry.command.to_string(),
                    _ => entry_payload(&entry).cyan().to_string(),
                };
                lines.push(format!("entry {index:>width$}{mark} {term}  {what}"));
            }
        }
    }
    let mut notes = Vec::new();
    if first > 1 {
        notes.push(format!("`log 1..{}` shows earlier ones", first - 1));
    }
    let asked_end = range.map_or(last, |(_, to)| to.min(last));
    if end < asked_end {
        notes.push(format!("`log {}..{asked_end}` shows later ones", end + 1));
    }
    if !notes.is_empty() {
        lines.push(
            format!(
                "(indexes {first}..{end} of 1..{last}; {})",
                notes.join(", ")
            )
            .dimmed()
            .to_string(),
        );
    }
    lines.push(LEGEND.dimmed().to_string());
    if marked {
        lines.push(
            "·T is a leader's no-op of term T; mT a membership (configuration) entry"
                .dimmed()
                .to_string(),
        );
    }
    lines.join("\n")
}

/// One node's row of the grid: its label, then a cell per index in `first..=end`.
fn grid_row(row: &LogRow, first: Index, end: Index, cell: usize) -> String {
    let status = &row.status;
    let detail = if status.up {
        format!("c{}", status.commit_index).dimmed()
    } else {
        "down".red()
    };
    let label = format!("{} {detail}", node_name(status));
    let mut line = format!(
        "{label}{}",
        " ".repeat(LABEL.saturating_sub(visible_width(&label)))
    );
    // `▏` stands right after the commit index: before the first uncommitted cell.
    let mark_before = (status.up).then_some(status.commit_index + 1);
    for index in first..=end {
        line.push(if mark_before == Some(index) {
            '▏'
        } else {
            ' '
        });
        let text = if index <= row.log.snapshot_index() {
            "#".repeat(cell).dimmed().to_string()
        } else if let Some(entry) = row.log.get(index) {
            let kind = match entry.kind {
                EntryKind::Command => "",
                EntryKind::NoOp => "·",
                EntryKind::Configuration(_) => "m",
            };
            if index <= status.commit_index {
                let text = format!("{:>cell$}", format!("{kind}{}", entry.term));
                in_term_color(entry.term, &text).to_string()
            } else {
                let text = format!("{:>cell$}", format!("*{kind}{}", entry.term));
                in_term_color(entry.term, &text).dimmed().to_string()
            }
        } else {
            " ".repeat(cell)
        };
        line.push_str(&text);
    }
    if mark_before == Some(end + 1) && status.commit_index >= first {
        line.push('▏');
    }
    line.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::{Entry, Role};

    fn row(id: usize, terms: &[u64], commit: Index) -> LogRow {
        let mut log = Log::default();
        for (position, &term) in terms.iter().enumerate() {
            log.push(Entry {
                index: position as u64 + 1,
                term,
                command: format!("c{}", position + 1).as_str().into(),
                kind: Default::default(),
            });
        }
        LogRow {
            status: NodeStatus {
                id,
                role: Role::Follower,
                term: 3,
                voted_for: None,
                leader: None,
                commit_index: commit,
                last_applied: commit,
                last_log_index: terms.len() as u64,
                last_log_term: terms.last().copied().unwrap_or(0),
                snapshot_index: 0,
                up: true,
                connected: true,
                timer_due: Some(10),
                timer_length: Some(15),
                timer_elapsed: Some(5),
                votes: None,
                pre_candidate: false,
                transferring_to: None,
                membership: crate::raft::Membership::Voter,
                configuration: std::sync::Arc::new(crate::raft::Configuration::with_voters(1..=3)),
                configuration_index: 0,
                removed: false,
                in_no_configuration: false,
            },
            log,
        }
    }

    /// The cells of one row, by index, as plain text.
    fn cells(line: &str) -> Vec<String> {
        line[LABEL..]
            .split([' ', '▏'])
            .filter(|cell| !cell.is_empty())
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn the_commit_mark_follows_the_commit_index_and_uncommitted_entries_are_starred() {
        // n1 knows 1 and 2 committed; 3 is not. Without color, the row must say so.
        let grid = log_grid(&[row(1, &[1, 1, 2], 2)], None, 80);
        let lines: Vec<&str> = grid.lines().collect();
        assert_eq!(cells(lines[1]), vec!["1", "1", "*2"], "{grid}");
        // The mark stands between index 2 (committed) and index 3.
        let after_two = lines[1].find(" 1▏*2").is_some();
        assert!(after_two, "the mark follows the commit index: {grid}");
        assert!(grid.contains("▏ follows the commit index"), "{grid}");
        // Everything committed: the mark closes the row.
        let grid = log_grid(&[row(1, &[1, 1], 2)], None, 80);
        assert!(grid.lines().nth(1).unwrap().ends_with(" 1▏"), "{grid}");
        // Nothing committed: the mark opens it, and every cell is starred.
        let grid = log_grid(&[row(1, &[1, 1], 0)], None, 80);
        assert_eq!(cells(grid.lines().nth(1).unwrap()), vec!["*1", "*1"]);
    }

    #[test]
    fn the_grid_fits_its_width_and_pages() {
        let terms: Vec<u64> = (0..150).map(|index| 1 + index / 40).collect();
        let rows: Vec<LogRow> = (1..=5).map(|id| row(id, &terms, 120)).collect();
        let grid = log_grid(&rows, None, 80);
        let widest = grid
            .lines()
            .filter(|line| !line.starts_with("each cell"))
            .map(visible_width)
            .max()
            .unwrap();
        assert!(widest <= 80, "{widest} columns:\n{grid}");
        assert!(grid.contains("150"), "the newest indexes show: {grid}");
        assert!(grid.contains("`log 1.."), "{grid}");
        let page = log_grid(&rows, Some((1, 10)), 80);
        let header = page.lines().next().unwrap();
        assert!(header.ends_with(" 10") && header.contains("  1 "), "{page}");
        assert!(!page.contains("earlier"), "{page}");
        let wide = log_grid(&rows, None, 200);
        assert!(wide.lines().next().unwrap().len() > 150, "{wide}");
        let past = log_grid(&rows, Some((151, 160)), 80);
        assert!(past.contains("the logs end at 150"), "{past}");
    }
}
