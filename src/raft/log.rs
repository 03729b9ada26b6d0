//! The replicated log, stored after a snapshot base.
//!
//! Log indexes start at 1. Once a snapshot covers indexes `1..=snapshot_index`, those
//! entries are gone and the log holds only `snapshot_index + 1 ..= last_index`. All
//! index arithmetic against the snapshot base lives in this file: the rest of the core
//! asks for entries and terms by their Raft index and never sees a vector position.

use std::collections::VecDeque;

use super::message::Entry;
use super::{Index, Term};

/// The log of one node: a snapshot base (`last_included_index`/`last_included_term`
/// in Figure 13) followed by the entries after it.
///
/// Invariant: `entries[i].index == snapshot_index + 1 + i`, and terms never decrease
/// along the log (a leader only appends entries of its own, newest term).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Log {
    /// Index of the last entry covered by the snapshot (0 if there is none).
    snapshot_index: Index,
    /// Term of that entry (0 if there is none).
    snapshot_term: Term,
    /// The entries after the snapshot, in index order.
    entries: VecDeque<Entry>,
}

impl Log {
    /// An empty log with no snapshot.
    pub fn new() -> Log {
        Log::default()
    }

    /// An empty log that starts after a snapshot of `1..=index` whose last entry had `term`.
    pub fn after_snapshot(index: Index, term: Term) -> Log {
        Log {
            snapshot_index: index,
            snapshot_term: term,
            entries: VecDeque::new(),
        }
    }

    /// The index of the last entry the snapshot covers (0 if none).
    pub fn snapshot_index(&self) -> Index {
        self.snapshot_index
    }

    /// The term of the last entry the snapshot covers (0 if none).
    pub fn snapshot_term(&self) -> Term {
        self.snapshot_term
    }

    /// The index of the last entry, or the snapshot index if no entry follows it.
    pub fn last_index(&self) -> Index {
        self.snapshot_index + self.entries.len() as u64
    }

    /// The term of the last entry, or the snapshot term if no entry follows it.
    pub fn last_term(&self) -> Term {
        self.entries
            .back()
            .map_or(self.snapshot_term, |entry| entry.term)
    }

    /// The number of entries held after the snapshot.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if no entry follows the snapshot base.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The position of `index` in `entries`, if the log holds that entry.
    fn position(&self, index: Index) -> Option<usize> {
        if index <= self.snapshot_index || index > self.last_index() {
            return None;
        }
        Some((index - self.snapshot_index - 1) as usize)
    }

    /// The term of the entry at `index`: the snapshot term at the snapshot index (and 0
    /// at index 0 of an uncompacted log), `None` if the entry was compacted away or does
    /// not exist yet.
    pub fn term_at(&self, index: Index) -> Option<Term> {
        if index == self.snapshot_index {
            return Some(self.snapshot_term);
        }
        self.position(index)
            .map(|position| self.entries[position].term)
    }

    /// The entry at `index`, if the log holds it (not compacted, not past the end).
    pub fn get(&self, index: Index) -> Option<&Entry> {
        self.position(index).map(|position| &self.entries[position])
    }

    /// All entries after the snapshot, in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Entry> + ExactSizeIterator {
        self.entries.iter()
    }

    /// The entries from `from` on (at least one if any exists), stopping before the
    /// batch would hold more than `max_entries` entries or `max_bytes` bytes of commands.
    ///
    /// Panics if `from` was compacted away: callers send a snapshot instead.
    pub fn batch_from(&self, from: Index, max_entries: usize, max_bytes: usize) -> Vec<Entry> {
        assert!(
            from > self.snapshot_index,
            "log entry {from} was compacted (snapshot index {})",
            self.snapshot_index
        );
        let Some(start) = self.position(from) else {
            return Vec::new();
        };
        let mut bytes = 0;
        let mut batch = Vec::new();
        for entry in self.entries.range(start..) {
            if !batch.is_empty()
                && (batch.len() >= max_entries || bytes + entry.command.len() > max_bytes)
            {
                break;
            }
            bytes += entry.command.len();
            batch.push(entry.clone());
        }
        batch
    }

    /// The entries in `from..=to` (both must be held).
    pub fn slice(&self, from: Index, to: Index) -> impl Iterator<Item = &Entry> {
        let range = match (self.position(from), self.position(to)) {
            (Some(start), Some(end)) if start <= end => start..end + 1,
            _ => 0..0,
        };
        self.entries.range(range)
    }

    /// Appends one entry at `last_index() + 1`.
    pub fn push(&mut self, entry: Entry) {
        assert_eq!(
            entry.index,
            self.last_index() + 1,
            "log entries must be contiguous"
        );
        assert!(
            entry.term >= self.last_term(),
            "log terms must not decrease"
        );
        self.entries.push_back(entry);
    }

    /// Removes every entry at `index` and after. `index` must follow the snapshot:
    /// snapshotted entries are committed and never conflict.
    pub fn truncate_from(&mut self, index: Index) {
        assert!(
            index > self.snapshot_index,
            "cannot truncate committed entry {index} (snapshot index {})",
            self.snapshot_index
        );
        if let Some(position) = self.position(index) {
            self.entries.truncate(position);
        }
    }

    /// Replaces everything from `first` on with `entries` (which start at `first`),
    /// skipping any that a snapshot already covers. Storage uses this to mirror the
    /// core's log.
    pub fn replace_from(&mut self, first: Index, entries: &[Entry]) {
        let first = first.max(self.snapshot_index + 1);
        self.truncate_from(first);
        for entry in entries.iter().filter(|entry| entry.index >= first) {
            self.push(entry.clone());
        }
    }

    /// Makes the log start after a snapshot of `1..=index` whose last entry had `term`
    /// (Figure 13, InstallSnapshot steps 6–7, also used for local snapshots): if the
    /// log holds that entry, the entries after it are kept; otherwise the whole log is
    /// discarded. Entries dropped here are freed. Returns true if a suffix was kept.
    pub fn compact(&mut self, index: Index, term: Term) -> bool {
        let keep_suffix = self.term_at(index) == Some(term);
        if keep_suffix {
            let drop = (index - self.snapshot_index) as usize;
            self.entries.drain(..drop);
        } else {
            self.entries.clear();
        }
        // Give memory back when the log shrank a lot, so trimmed entries are really freed.
        if self.entries.capacity() > 64 && self.entries.len() < self.entries.capacity() / 4 {
            self.entries.shrink_to_fit();
        }
        self.snapshot_index = index;
        self.snapshot_term = term;
        keep_suffix
    }

    /// The first index of the run of entries with the same term as the entry at
    /// `index`, not looking before the snapshot (used for the conflict hint's XIndex).
    pub fn first_index_of_term_at(&self, index: Index) -> Index {
        let Some(term) = self.term_at(index) else {
            return index;
        };
        // Terms never decrease, so the run starts just after the last entry with a
        // smaller term.
        let start = self.entries.partition_point(|entry| entry.term < term);
        (self.snapshot_index + 1 + start as u64).min(index)
    }

    /// The index of this log's last entry with `term`, if it holds any (used when a
    /// leader backs up over a conflict: §5.3 optimisation).
    pub fn last_index_of_term(&self, term: Term) -> Option<Index> {
        let end = self.entries.partition_point(|entry| entry.term <= term);
        if end > 0 && self.entries[end - 1].term == term {
            Some(self.snapshot_index + end as u64)
        } else if end == 0 && self.snapshot_term == term && self.snapshot_index > 0 {
            Some(self.snapshot_index)
        } else {
            None
        }
    }

    /// §5.4.1 election restriction: is a log ending at (`last_log_index`,
    /// `last_log_term`) at least as up-to-date as this one? Logs with later last terms
    /// are more up-to-date; with equal last terms, the longer log is.
    pub fn is_up_to_date(&self, last_log_index: Index, last_log_term: Term) -> bool {
        (last_log_term, last_log_index) >= (self.last_term(), self.last_index())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log (no snapshot) whose entry i has term `terms[i - 1]`.
    pub(crate) fn log_with_terms(terms: &[u64]) -> Log {
        let mut log = Log::new();
        for (position, &term) in terms.iter().enumerate() {
            log.push(Entry {
                index: position as u64 + 1,
                term,
                command: format!("c{}", position + 1).into(),
            });
        }
        log
    }

    #[test]
    fn indexes_start_at_one() {
        let log = log_with_terms(&[1, 1, 2]);
        assert_eq!(log.last_index(), 3);
        assert_eq!(log.last_term(), 2);
        assert_eq!(log.term_at(0), Some(0));
        assert_eq!(log.term_at(1), Some(1));
        assert_eq!(log.term_at(4), None);
        assert_eq!(log.get(1).unwrap().command.as_str(), "c1");
    }

    #[test]
    fn compact_keeps_matching_suffix_and_frees_the_rest() {
        let mut log = log_with_terms(&[1, 1, 2, 2, 3]);
        assert!(log.compact(3, 2));
        assert_eq!(log.snapshot_index(), 3);
        assert_eq!(log.len(), 2);
        assert_eq!(log.term_at(3), Some(2));
        assert_eq!(log.term_at(2), None);
        assert_eq!(log.get(4).unwrap().index, 4);
        assert_eq!(log.last_index(), 5);
        // A snapshot whose last entry does not match discards the whole log.
        let mut log = log_with_terms(&[1, 1, 2]);
        assert!(!log.compact(3, 5));
        assert!(log.is_empty());
        assert_eq!((log.last_index(), log.last_term()), (3, 5));
        // A snapshot past the end discards everything too.
        let mut log = log_with_terms(&[1]);
        assert!(!log.compact(10, 4));
        assert_eq!(log.last_index(), 10);
    }

    #[test]
    fn truncate_and_replace() {
        let mut log = log_with_terms(&[1, 1, 2, 2]);
        log.truncate_from(3);
        assert_eq!(log.last_index(), 2);
        let other = log_with_terms(&[1, 1, 3, 3, 3]);
        let tail: Vec<Entry> = other.slice(3, 5).cloned().collect();
        log.replace_from(3, &tail);
        assert_eq!(log, other);
        // Entries a snapshot covers are skipped.
        let mut compacted = log_with_terms(&[1, 1, 3]);
        compacted.compact(2, 1);
        compacted.replace_from(1, &other.slice(1, 5).cloned().collect::<Vec<_>>());
        assert_eq!(compacted.last_index(), 5);
        assert_eq!(compacted.snapshot_index(), 2);
    }

    #[test]
    fn term_runs() {
        let log = log_with_terms(&[1, 1, 4, 4, 4, 5]);
        assert_eq!(log.first_index_of_term_at(5), 3);
        assert_eq!(log.first_index_of_term_at(2), 1);
        assert_eq!(log.last_index_of_term(4), Some(5));
        assert_eq!(log.last_index_of_term(2), None);
        assert_eq!(log.last_index_of_term(5), Some(6));
        let mut compacted = log.clone();
        compacted.compact(4, 4);
        assert_eq!(compacted.first_index_of_term_at(5), 5);
        assert_eq!(compacted.last_index_of_term(4), Some(5));
        compacted.compact(5, 4);
        assert_eq!(compacted.last_index_of_term(4), Some(5));
    }

    #[test]
    fn batches_respect_limits() {
        let log = log_with_terms(&[1; 10]);
        assert_eq!(log.batch_from(3, 4, usize::MAX).len(), 4);
        assert_eq!(log.batch_from(9, 100, usize::MAX).len(), 2);
        assert_eq!(log.batch_from(11, 100, usize::MAX).len(), 0);
        // A single entry larger than the byte limit is still sent.
        assert_eq!(log.batch_from(1, 100, 1).len(), 1);
    }

    #[test]
    fn up_to_date_compares_last_term_then_length() {
        let log = log_with_terms(&[1, 2, 2]);
        assert!(log.is_up_to_date(3, 2));
        assert!(log.is_up_to_date(1, 3));
        assert!(!log.is_up_to_date(5, 1));
        assert!(!log.is_up_to_date(2, 2));
    }
}
