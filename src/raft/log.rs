//! The replicated log, stored after a snapshot base.
//!
//! Log indexes start at 1. Once a snapshot covers indexes `1..=snapshot_index`, those
//! entries are gone and the log holds only `snapshot_index + 1 ..= last_index`. All
//! index arithmetic against the snapshot base lives in this file: the rest of the core
//! asks for entries and terms by their Raft index and never sees a vector position.

mod commands;

use serde::Serialize;
use serde::ser::SerializeStruct;

use std::sync::Arc;

use self::commands::{Commands, SharedVec};
use super::entry::{Command, Entry, EntryKind};
use super::membership::Configuration;
use super::{Index, Term};

/// A run of consecutive entries with the same term: terms change only when a new
/// leader appends, so a log stores one run per term instead of a term per entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TermRun {
    /// The index of the run's first entry.
    first: Index,
    /// The term of every entry in the run.
    term: Term,
}

/// The log of one node: a snapshot base (`last_included_index`/`last_included_term`
/// in Figure 13) followed by the entries after it.
///
/// A log is a value whose clones share their storage: cloning one copies no command,
/// and the clone stays as it was while the original changes (see `log/commands.rs`).
/// So persisting a log is keeping a clone of the core's, and a view of a log is a
/// clone too; a node's commands exist once in memory however many of these it has
/// (only the last, partly filled leaf of at most 63 is copied, when a log appends
/// while a clone of it lives). Each entry costs its command (24 bytes, text up to 23
/// bytes inline): its index is its position, and its term is found in the runs of
/// equal terms.
///
/// The few entries that are not client commands (leader no-ops, configuration
/// entries) are listed apart with their index and kind, so they cost nothing per
/// command; their command slot holds empty text.
///
/// Invariant: the commands are those of indexes `snapshot_index + 1 ..= last_index()`;
/// `terms` is empty exactly when there is no command, its first run starts at
/// `snapshot_index + 1`, and its terms strictly increase from run to run (a leader
/// only appends entries of its own, newest term, so terms never decrease along a log);
/// `kinds` holds, in index order, exactly the held entries that are not commands.
#[derive(Clone, Default)]
pub struct Log {
    /// Index of the last entry covered by the snapshot (0 if there is none).
    snapshot_index: Index,
    /// Term of that entry (0 if there is none).
    snapshot_term: Term,
    /// The terms of the entries after the snapshot, run by run.
    terms: SharedVec<TermRun>,
    /// The commands of the entries after the snapshot, in index order.
    commands: Commands,
    /// The entries after the snapshot that are not commands, in index order.
    kinds: SharedVec<(Index, EntryKind)>,
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
            ..Log::default()
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
        self.snapshot_index + self.commands.len() as u64
    }

    /// The term of the last entry, or the snapshot term if no entry follows it.
    pub fn last_term(&self) -> Term {
        self.terms.last().map_or(self.snapshot_term, |run| run.term)
    }

    /// The number of entries held after the snapshot.
    pub fn len(&self) -> usize {
        self.commands.len()
    }

    /// True if no entry follows the snapshot base.
    pub fn is_empty(&self) -> bool {
        self.commands.len() == 0
    }

    /// The position of `index` among the commands, if the log holds that entry.
    fn position(&self, index: Index) -> Option<usize> {
        if index <= self.snapshot_index || index > self.last_index() {
            return None;
        }
        Some((index - self.snapshot_index - 1) as usize)
    }

    /// The run that holds `index`, which the log must hold.
    fn run_of(&self, index: Index) -> usize {
        match self.terms.last() {
            // Most lookups are near the end of the log.
            Some(last) if last.first <= index => self.terms.len() - 1,
            _ => self.terms.partition_point(|run| run.first <= index) - 1,
        }
    }

    /// The term of the entry at `index`: the snapshot term at the snapshot index (and 0
    /// at index 0 of an uncompacted log), `None` if the entry was compacted away or does
    /// not exist yet.
    pub fn term_at(&self, index: Index) -> Option<Term> {
        if index == self.snapshot_index {
            return Some(self.snapshot_term);
        }
        self.position(index)?;
        Some(self.terms[self.run_of(index)].term)
    }

    /// The entry at `index`, if the log holds it (not compacted, not past the end).
    pub fn get(&self, index: Index) -> Option<Entry> {
        let position = self.position(index)?;
        let command = self.commands.get(position)?.clone();
        let term = self.terms[self.run_of(index)].term;
        Some(Entry {
            index,
            term,
            command,
            kind: self.kind_at(index)?,
        })
    }

    /// What the entry at `index` is for, if the log holds it.
    pub fn kind_at(&self, index: Index) -> Option<EntryKind> {
        self.position(index)?;
        Some(
            self.kinds
                .binary_search_by_key(&index, |(at, _)| *at)
                .map_or(EntryKind::Command, |found| self.kinds[found].1.clone()),
        )
    }

    /// The configuration entries the log holds, in index order, with the
    /// configuration each sets.
    pub fn configuration_entries(&self) -> impl Iterator<Item = (Index, &Arc<Configuration>)> + '_ {
        self.kinds.iter().filter_map(|(index, kind)| match kind {
            EntryKind::Configuration(configuration) => Some((*index, configuration)),
            EntryKind::Command | EntryKind::NoOp => None,
        })
    }

    /// The command of the entry at `index`, if the log holds it (without copying it).
    pub fn command(&self, index: Index) -> Option<&Command> {
        self.commands.get(self.position(index)?)
    }

    /// The entries in `from..=to` that the log holds, in order, borrowed: nothing is
    /// copied, which makes this the way to compare logs entry by entry.
    pub fn refs(&self, from: Index, to: Index) -> Refs<'_> {
        let from = from.max(self.snapshot_index + 1);
        let to = to.min(self.last_index());
        let (start, end) = if from <= to {
            (
                (from - self.snapshot_index - 1) as usize,
                (to - self.snapshot_index) as usize,
            )
        } else {
            (0, 0)
        };
        Refs {
            terms: &self.terms,
            commands: self.commands.range(start..end),
            index: from,
            run: if start < end { self.run_of(from) } else { 0 },
            kinds: &self.kinds,
            next_kind: self.kinds.partition_point(|(at, _)| *at < from),
        }
    }

    /// The entries in `from..=to` that the log holds, in order.
    fn range(&self, from: Index, to: Index) -> Iter<'_> {
        Iter(self.refs(from, to))
    }

    /// All entries after the snapshot, in order (the range clamps to what is held).
    pub fn iter(&self) -> Iter<'_> {
        self.range(0, Index::MAX)
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
        let mut bytes = 0;
        let mut batch = Vec::new();
        for entry in self.range(from, self.last_index()) {
            if !batch.is_empty()
                && (batch.len() >= max_entries || bytes + entry.command.len() > max_bytes)
            {
                break;
            }
            bytes += entry.command.len();
            batch.push(entry);
        }
        batch
    }

    /// The entries in `from..=to` (both must be held; otherwise none, as when `from`
    /// comes after `to`).
    pub fn slice(&self, from: Index, to: Index) -> Iter<'_> {
        if self.position(from).is_some() && self.position(to).is_some() {
            self.range(from, to)
        } else {
            self.range(1, 0)
        }
    }

    /// The entries in `from..=to` as a value that shares this log's storage (none if
    /// either end is not held). Making one copies no command.
    pub fn entries(&self, from: Index, to: Index) -> Entries {
        match (self.position(from), self.position(to)) {
            (Some(start), Some(end)) if start <= end => Entries {
                log: self.clone(),
                first: from,
                count: to - from + 1,
            },
            _ => Entries::default(),
        }
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
        if self.terms.last().is_none_or(|run| run.term != entry.term) {
            self.terms.make_mut(4).push(TermRun {
                first: entry.index,
                term: entry.term,
            });
        }
        if !entry.kind.is_command() {
            assert!(
                entry.command.is_empty(),
                "a no-op or configuration entry carries no command text"
            );
            self.kinds
                .make_mut(4)
                .push((entry.index, entry.kind.clone()));
        }
        self.commands.push(entry.command);
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
            self.commands.truncate(position);
            let runs = self.terms.partition_point(|run| run.first < index);
            self.terms.make_mut(runs).truncate(runs);
            let kinds = self.kinds.partition_point(|(at, _)| *at < index);
            if kinds < self.kinds.len() {
                self.kinds.make_mut(kinds).truncate(kinds);
            }
        }
    }

    /// Replaces everything from `first` on with `entries` (which start at `first`),
    /// skipping any that a snapshot already covers. (Storage normally keeps a clone of
    /// the core's log instead; this writes chosen entries, copying them.)
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
    /// discarded. Entries dropped here are freed (unless a clone still holds them).
    /// Returns true if a suffix was kept.
    pub fn compact(&mut self, index: Index, term: Term) -> bool {
        let keep_suffix = self.term_at(index) == Some(term);
        if keep_suffix && index < self.last_index() {
            self.commands
                .drop_front((index - self.snapshot_index) as usize);
            // Runs that end at or before `index` go; the run holding `index + 1` now
            // starts there.
            let terms = self.terms.make_mut(0);
            let first_kept = terms.partition_point(|run| run.first <= index + 1) - 1;
            terms.drain(..first_kept);
            terms[0].first = index + 1;
            let dropped = self.kinds.partition_point(|(at, _)| *at <= index);
            if dropped > 0 {
                self.kinds.make_mut(0).drain(..dropped);
            }
        } else {
            self.commands = Commands::default();
            self.terms = SharedVec::default();
            self.kinds = SharedVec::default();
        }
        self.snapshot_index = index;
        self.snapshot_term = term;
        keep_suffix
    }

    /// The first index of the run of entries with the same term as the entry at
    /// `index`, not looking before the snapshot (used for the conflict hint's XIndex).
    pub fn first_index_of_term_at(&self, index: Index) -> Index {
        if self.position(index).is_none() {
            // The snapshot base (or an index the log does not hold) starts its own run.
            return index;
        }
        self.terms[self.run_of(index)].first.min(index)
    }

    /// The index of this log's last entry with `term`, if it holds any (used when a
    /// leader backs up over a conflict: §5.3 optimisation).
    pub fn last_index_of_term(&self, term: Term) -> Option<Index> {
        let after = self.terms.partition_point(|run| run.term <= term);
        if after > 0 && self.terms[after - 1].term == term {
            Some(
                self.terms
                    .get(after)
                    .map_or(self.last_index(), |next| next.first - 1),
            )
        } else if after == 0 && self.snapshot_term == term && self.snapshot_index > 0 {
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

/// Two logs are equal when they hold the same snapshot base and the same entries,
/// however their storage is shared.
impl PartialEq for Log {
    fn eq(&self, other: &Log) -> bool {
        self.snapshot_index == other.snapshot_index
            && self.snapshot_term == other.snapshot_term
            && self.terms == other.terms
            && self.kinds == other.kinds
            && self.len() == other.len()
            && self
                .commands
                .range(0..self.len())
                .eq(other.commands.range(0..other.len()))
    }
}

impl Eq for Log {}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("snapshot_index", &self.snapshot_index)
            .field("snapshot_term", &self.snapshot_term)
            .field("entries", &EntryList(self.iter()))
            .finish()
    }
}

/// A log serializes as `{snapshot_index, snapshot_term, entries: [...]}`.
impl Serialize for Log {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut log = serializer.serialize_struct("Log", 3)?;
        log.serialize_field("snapshot_index", &self.snapshot_index)?;
        log.serialize_field("snapshot_term", &self.snapshot_term)?;
        log.serialize_field("entries", &EntryList(self.iter()))?;
        log.end()
    }
}

/// Entries shown (debugged or serialized) as a list, straight from a log's iterator.
struct EntryList<I>(I);

impl<I: Iterator<Item = Entry> + Clone> std::fmt::Debug for EntryList<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.clone()).finish()
    }
}

impl<I: Iterator<Item = Entry> + Clone> Serialize for EntryList<I> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.clone())
    }
}

/// One entry of a log, borrowed from it. See [`Log::refs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryRef<'a> {
    /// The entry's index.
    pub index: Index,
    /// The entry's term.
    pub term: Term,
    /// The entry's command (empty unless `kind` is a command).
    pub command: &'a Command,
    /// What the entry is for.
    pub kind: &'a EntryKind,
}

/// The entries of a log range, in order, borrowed. See [`Log::refs`].
#[derive(Clone)]
pub struct Refs<'a> {
    /// The log's term runs.
    terms: &'a [TermRun],
    /// The commands still to yield.
    commands: commands::Iter<'a>,
    /// The index of the next entry.
    index: Index,
    /// The run that holds `index`.
    run: usize,
    /// The log's entries that are not commands.
    kinds: &'a [(Index, EntryKind)],
    /// The first of `kinds` at or after `index`.
    next_kind: usize,
}

impl<'a> Iterator for Refs<'a> {
    type Item = EntryRef<'a>;

    fn next(&mut self) -> Option<EntryRef<'a>> {
        let command = self.commands.next()?;
        while self.run + 1 < self.terms.len() && self.terms[self.run + 1].first <= self.index {
            self.run += 1;
        }
        let kind = match self.kinds.get(self.next_kind) {
            Some((at, kind)) if *at == self.index => {
                self.next_kind += 1;
                kind
            }
            _ => &EntryKind::Command,
        };
        let entry = EntryRef {
            index: self.index,
            term: self.terms[self.run].term,
            command,
            kind,
        };
        self.index += 1;
        Some(entry)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.commands.size_hint()
    }
}

impl ExactSizeIterator for Refs<'_> {}

/// The entries of a log range, in order, each a fresh [`Entry`] (copying a command
/// copies at most 24 bytes). See [`Log::iter`].
#[derive(Clone)]
pub struct Iter<'a>(Refs<'a>);

impl Iterator for Iter<'_> {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        let entry = self.0.next()?;
        Some(Entry {
            index: entry.index,
            term: entry.term,
            command: entry.command.clone(),
            kind: entry.kind.clone(),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// The entries `first..first + count` of a log, as a value that shares the log's
/// storage: making or cloning one copies no command. The core hands out committed
/// entries this way, and the checker keeps them to know what was applied.
#[derive(Clone, Default)]
pub struct Entries {
    /// The log they were taken from (a clone, frozen as it was then).
    log: Log,
    /// The index of the first entry.
    first: Index,
    /// How many entries there are.
    count: u64,
}

impl Entries {
    /// The number of entries.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// True if there is no entry.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The index of the first entry, if any.
    pub fn first_index(&self) -> Option<Index> {
        (self.count > 0).then_some(self.first)
    }

    /// The index of the last entry, if any.
    pub fn last_index(&self) -> Option<Index> {
        (self.count > 0).then(|| self.first + self.count - 1)
    }

    /// The entries, in order.
    pub fn iter(&self) -> Iter<'_> {
        match self.last_index() {
            Some(last) => self.log.range(self.first, last),
            None => self.log.range(1, 0),
        }
    }

    /// The entries, in order, borrowed (nothing copied).
    pub fn refs(&self) -> Refs<'_> {
        match self.last_index() {
            Some(last) => self.log.refs(self.first, last),
            None => self.log.refs(1, 0),
        }
    }

    /// The whole log the entries were taken from, as it was then.
    pub fn log(&self) -> &Log {
        &self.log
    }
}

impl<'a> IntoIterator for &'a Entries {
    type Item = Entry;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl std::fmt::Debug for Entries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
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
                kind: Default::default(),
            });
        }
        log
    }

    #[test]
    fn no_ops_and_configurations_are_kept_apart_and_follow_the_log() {
        use std::sync::Arc;
        let configuration = Configuration::with_voters([1, 2]);
        let config_kind = EntryKind::Configuration(Arc::new(configuration.clone()));
        let mut log = log_with_terms(&[1, 1]);
        log.push(Entry::internal(3, 2, EntryKind::NoOp));
        log.push(Entry::command(4, 2, "x".into()));
        log.push(Entry::internal(5, 2, config_kind.clone()));
        log.push(Entry::command(6, 2, "y".into()));
        let kinds: Vec<EntryKind> = log.iter().map(|entry| entry.kind).collect();
        use EntryKind::{Command, NoOp};
        assert_eq!(
            kinds,
            vec![
                Command,
                Command,
                NoOp,
                Command,
                config_kind.clone(),
                Command
            ]
        );
        assert_eq!(log.kind_at(5), Some(config_kind.clone()));
        assert_eq!(log.kind_at(7), None);
        assert_eq!(log.get(5).unwrap().command.as_str(), "");
        let refs: Vec<(Index, bool)> = log
            .refs(4, 6)
            .map(|entry| (entry.index, entry.kind.is_command()))
            .collect();
        assert_eq!(refs, vec![(4, true), (5, false), (6, true)]);
        assert_eq!(
            log.configuration_entries()
                .map(|(index, configuration)| (index, (**configuration).clone()))
                .collect::<Vec<_>>(),
            vec![(5, configuration)]
        );
        // A copy without the kinds is another log.
        let mut plain = log_with_terms(&[1, 1]);
        for index in 3..=6 {
            plain.push(Entry::command(index, 2, log.get(index).unwrap().command));
        }
        assert_ne!(plain, log);
        // Truncation and compaction drop kinds with their entries.
        let mut truncated = log.clone();
        truncated.truncate_from(5);
        assert_eq!(truncated.configuration_entries().count(), 0);
        assert_eq!(truncated.kind_at(3), Some(NoOp));
        let mut compacted = log.clone();
        assert!(compacted.compact(4, 2));
        assert_eq!(compacted.kind_at(5), Some(config_kind));
        assert_eq!(
            compacted
                .iter()
                .filter(|entry| !entry.kind.is_command())
                .count(),
            1
        );
        let mut past_the_configuration = log.clone();
        assert!(past_the_configuration.compact(5, 2));
        assert_eq!(past_the_configuration.configuration_entries().count(), 0);
        assert!(compacted.compact(6, 2));
        assert_eq!(compacted.configuration_entries().count(), 0);
        // The clone taken before is untouched.
        assert_eq!(log.kind_at(3), Some(NoOp));
    }

    #[test]
    #[should_panic(expected = "a no-op or configuration entry carries no command text")]
    fn a_no_op_with_text_is_refused() {
        let mut log = Log::new();
        log.push(Entry {
            index: 1,
            term: 1,
            command: "text".into(),
            kind: EntryKind::NoOp,
        });
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
        assert_eq!((log.len(), log.is_empty()), (2, false));
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
        // The run of term 2 started at the cut: it goes whole.
        assert_eq!((log.last_term(), log.last_index_of_term(2)), (1, None));
        // A slice needs both ends held, in order.
        assert_eq!(log.slice(2, 3).count(), 0);
        assert_eq!(log.slice(2, 1).count(), 0);
        assert_eq!(log.slice(1, 2).count(), 2);
        assert!(log.entries(2, 1).is_empty() && log.entries(2, 2).len() == 1);
        assert!(log_with_terms(&[1, 1, 1]).entries(3, 1).is_empty());
        assert!(!log_with_terms(&[1, 1, 1]).entries(1, 3).is_empty());
        let other = log_with_terms(&[1, 1, 3, 3, 3]);
        let tail: Vec<Entry> = other.slice(3, 5).collect();
        log.replace_from(3, &tail);
        assert_eq!(log, other);
        // Entries a snapshot covers are skipped.
        let mut compacted = log_with_terms(&[1, 1, 3]);
        compacted.compact(2, 1);
        compacted.replace_from(1, &other.slice(1, 5).collect::<Vec<_>>());
        assert_eq!(compacted.last_index(), 5);
        assert_eq!(compacted.snapshot_index(), 2);
    }

    /// A cut exactly at the end of the full pages of commands, or of a leaf, or
    /// inside one, leaves a log that reads and grows as one built that long.
    #[test]
    fn truncating_at_page_and_leaf_boundaries() {
        let page = commands::LEAF * commands::PAGE;
        let long = log_with_terms(&vec![1; page + 100]);
        for kept in [
            page,
            page - commands::LEAF,
            page + commands::LEAF,
            page + 1,
            5,
        ] {
            let mut log = long.clone();
            log.truncate_from(kept as Index + 1);
            let mut expected = log_with_terms(&vec![1; kept]);
            assert_eq!(log, expected, "kept {kept}");
            let next = Entry::command(kept as Index + 1, 2, "next".into());
            log.push(next.clone());
            expected.push(next);
            assert_eq!(log, expected, "kept {kept}, then one more");
            assert_eq!(log.slice(kept as Index, kept as Index + 1).count(), 2);
        }
    }

    /// Compacting a log of several full pages of commands, through an index inside a
    /// leaf, at a page's end, or past it, keeps exactly what follows.
    #[test]
    fn compacting_a_long_log_keeps_what_follows() {
        let page = commands::LEAF * commands::PAGE;
        let long = log_with_terms(&vec![1; 2 * page + 10]);
        for through in [10, page - 1, page, page + 70, 2 * page + 5] {
            let mut log = long.clone();
            assert!(log.compact(through as Index, 1));
            let kept: Vec<Entry> = log.iter().collect();
            let expected: Vec<Entry> = long
                .slice(through as Index + 1, long.last_index())
                .collect();
            assert_eq!(kept, expected, "through {through}");
        }
    }

    #[test]
    fn term_runs() {
        let log = log_with_terms(&[1, 1, 4, 4, 4, 5]);
        assert_eq!(log.first_index_of_term_at(5), 3);
        assert_eq!(log.first_index_of_term_at(2), 1);
        assert_eq!(log.last_index_of_term(4), Some(5));
        assert_eq!(log.last_index_of_term(2), None);
        assert_eq!(log.last_index_of_term(5), Some(6));
        // No snapshot: nothing of term 0 is held (index 0 is no entry).
        assert_eq!(log.last_index_of_term(0), None);
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
        // Commands of 2 bytes ("c1", "c2", ...): 5 bytes take two, and so do 4.
        assert_eq!(log.batch_from(1, 100, 5).len(), 2);
        assert_eq!(log.batch_from(1, 100, 4).len(), 2);
    }

    #[test]
    fn up_to_date_compares_last_term_then_length() {
        let log = log_with_terms(&[1, 2, 2]);
        assert!(log.is_up_to_date(3, 2));
        assert!(log.is_up_to_date(1, 3));
        assert!(!log.is_up_to_date(5, 1));
        assert!(!log.is_up_to_date(2, 2));
    }

    /// The same log as a plain list: snapshot base and entries, for comparison.
    struct Model {
        snapshot_index: u64,
        snapshot_term: u64,
        entries: Vec<Entry>,
    }

    impl Model {
        fn term_at(&self, index: u64) -> Option<u64> {
            if index == self.snapshot_index {
                return Some(self.snapshot_term);
            }
            let position = index.checked_sub(self.snapshot_index + 1)? as usize;
            self.entries.get(position).map(|entry| entry.term)
        }

        fn last_index(&self) -> u64 {
            self.snapshot_index + self.entries.len() as u64
        }
    }

    /// Random appends (with new terms now and then), truncations, compactions and
    /// clones, each compared with a plain list; every clone is compared again at the
    /// end, after its original moved on.
    #[test]
    fn behaves_like_a_list_of_entries_and_clones_stay_unchanged() {
        use rand::rngs::Xoshiro256PlusPlus;
        use rand::{RngExt, SeedableRng};
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let mut log = Log::new();
        let mut model = Model {
            snapshot_index: 0,
            snapshot_term: 0,
            entries: Vec::new(),
        };
        let mut clones: Vec<(Log, Vec<Entry>, u64)> = Vec::new();
        let mut term = 1;
        for step in 0..2000 {
            match rng.random_range(0..100) {
                0..60 => {
                    if rng.random_bool(0.3) {
                        term += 1;
                    }
                    for _ in 0..rng.random_range(1..200) {
                        let entry = Entry {
                            index: log.last_index() + 1,
                            term,
                            command: format!("s{step}.{}", log.last_index() + 1).into(),
                            kind: Default::default(),
                        };
                        log.push(entry.clone());
                        model.entries.push(entry);
                    }
                }
                60..75 if !model.entries.is_empty() => {
                    let index = rng.random_range(model.snapshot_index + 1..=model.last_index());
                    log.truncate_from(index);
                    model
                        .entries
                        .truncate((index - model.snapshot_index - 1) as usize);
                }
                75..90 => {
                    let index = rng.random_range(model.snapshot_index..=model.last_index() + 3);
                    let snapshot_term = match rng.random_bool(0.8) {
                        true => model.term_at(index).unwrap_or(term),
                        false => term + 1,
                    };
                    let kept = log.compact(index, snapshot_term);
                    assert_eq!(kept, model.term_at(index) == Some(snapshot_term));
                    if kept {
                        let drop = (index - model.snapshot_index) as usize;
                        model.entries.drain(..drop.min(model.entries.len()));
                    } else {
                        model.entries.clear();
                    }
                    model.snapshot_index = index;
                    model.snapshot_term = snapshot_term;
                    // Later entries may not have an older term than the snapshot's.
                    term = term.max(snapshot_term);
                }
                _ => clones.push((log.clone(), model.entries.clone(), model.snapshot_index)),
            }
            assert_eq!(log.last_index(), model.last_index(), "step {step}");
            assert_eq!(
                log.last_term(),
                model
                    .entries
                    .last()
                    .map_or(model.snapshot_term, |entry| entry.term)
            );
            let probe = rng.random_range(0..=model.last_index() + 2);
            assert_eq!(log.term_at(probe), model.term_at(probe), "step {step}");
            let expected = model
                .entries
                .get((probe.wrapping_sub(model.snapshot_index + 1)) as usize)
                .filter(|_| probe > model.snapshot_index);
            assert_eq!(log.get(probe).as_ref(), expected, "step {step}");
            if let Some(probe_term) = model
                .term_at(probe)
                .filter(|_| probe > model.snapshot_index)
            {
                let first = model
                    .entries
                    .iter()
                    .find(|entry| entry.term == probe_term)
                    .map_or(probe, |entry| entry.index);
                assert_eq!(log.first_index_of_term_at(probe), first, "step {step}");
            }
            let asked = rng.random_range(0..=term + 1);
            let last_of_term = model
                .entries
                .iter()
                .rev()
                .find(|entry| entry.term == asked)
                .map(|entry| entry.index)
                .or_else(|| {
                    let none_below = model.entries.iter().all(|entry| entry.term > asked);
                    (none_below && model.snapshot_term == asked && model.snapshot_index > 0)
                        .then_some(model.snapshot_index)
                });
            assert_eq!(log.last_index_of_term(asked), last_of_term, "step {step}");
            // Iterators over a range know exactly how much is left (ExactSizeIterator).
            let from = rng.random_range(0..=model.last_index() + 2);
            let to = rng.random_range(0..=model.last_index() + 2);
            let expected: Vec<&Entry> = model
                .entries
                .iter()
                .filter(|entry| (from..=to).contains(&entry.index))
                .collect();
            let (mut refs, mut iter) = (log.refs(from, to), log.range(from, to));
            for left in (0..=expected.len()).rev() {
                assert_eq!((refs.len(), iter.len()), (left, left), "step {step}");
                let taken = (refs.next(), iter.next());
                let want = expected.get(expected.len() - left);
                assert_eq!(taken.0.map(|entry| entry.index), want.map(|e| e.index));
                assert_eq!(taken.1.as_ref(), want.copied(), "step {step}");
            }
        }
        assert_eq!(log.iter().collect::<Vec<_>>(), model.entries);
        for (clone, entries, snapshot_index) in &clones {
            assert_eq!(clone.snapshot_index(), *snapshot_index);
            assert_eq!(
                &clone.iter().collect::<Vec<_>>(),
                entries,
                "a clone never changes"
            );
        }
    }

    #[test]
    fn a_log_after_a_snapshot_starts_at_its_base() {
        let mut log = Log::after_snapshot(5, 2);
        assert_eq!((log.snapshot_index(), log.snapshot_term()), (5, 2));
        assert_eq!((log.last_index(), log.last_term(), log.len()), (5, 2, 0));
        assert_eq!((log.term_at(5), log.term_at(4)), (Some(2), None));
        log.push(Entry::command(6, 3, "c6".into()));
        assert_eq!(log.iter().map(|entry| entry.term).collect::<Vec<_>>(), [3]);
    }

    #[test]
    fn entries_views_share_the_log_and_serialize_like_a_list() {
        let log = log_with_terms(&[1, 1, 2]);
        let view = log.entries(2, 3);
        assert_eq!((view.first_index(), view.last_index()), (Some(2), Some(3)));
        assert_eq!(
            view.iter().map(|entry| entry.term).collect::<Vec<_>>(),
            [1, 2]
        );
        assert!(log.entries(3, 4).is_empty(), "both ends must be held");
        let none = log.entries(3, 4);
        assert_eq!(
            (none.first_index(), none.last_index(), none.len()),
            (None, None, 0)
        );
        assert_eq!(
            format!("{:?}", log.entries(3, 3)),
            format!("[{:?}]", log.get(3).unwrap())
        );
        assert_eq!(view.log(), &log);
        let json = serde_json::to_value(&log).unwrap();
        assert_eq!(json["snapshot_index"], 0);
        assert_eq!(json["entries"][2]["term"], 2);
        assert_eq!(json["entries"][2]["command"], "c3");
        assert_eq!(json["entries"][2]["index"], 3);
    }
}
