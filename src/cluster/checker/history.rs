//! What the checker remembers of the commands applied so far, without a copy of them.
//!
//! It keeps the digest of every command through every [`STRIDE`]-th index, so a
//! snapshot can be compared with the commands it replaces (the digest at any other
//! index is folded again from the nearest one before it). The commands themselves
//! (and their terms) it finds in *sources*: for each stretch of indexes, a clone of
//! the log of the node that applied them first, taken from the committed entries it
//! applied. A clone of a log shares that node's storage ([`crate::raft::Log`]), so a
//! source costs a few pointers while the node still holds those entries, and keeps
//! them alive only once the node has compacted them, until they are forgotten.

use std::collections::VecDeque;

use crate::digest::fold_command;
use crate::raft::log::Entries;
use crate::raft::{Command, Index, Log, NodeId, Term};

/// The command first applied at an index, as the history knows it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Applied<'a> {
    /// The entry's index.
    pub index: Index,
    /// The entry's term.
    pub term: Term,
    /// The command.
    pub command: &'a Command,
}

/// The history keeps the digest through every `STRIDE`-th index.
const STRIDE: Index = 64;

/// Where the commands first applied at `from..` (up to the next source) are found.
#[derive(Clone, Debug)]
struct Source {
    /// The first index this source answers for.
    from: Index,
    /// The node that applied them first.
    node: NodeId,
    /// Which life of that node (restarts count up).
    life: u64,
    /// That node's log when it applied them (a clone sharing its storage).
    log: Log,
}

/// The command applied at each index (the first one applied there), with the oldest
/// forgotten once they can no longer matter. See the module documentation.
///
/// Invariant: `checkpoints[k]` is the digest through index `(forgotten / STRIDE + 1 +
/// k) * STRIDE`, for every such index up to `last`; the sources' `from` increase, the
/// first is at most `forgotten + 1`, and each source's log holds every index from its
/// `from` to the next source's `from - 1` (or to `last`).
#[derive(Clone, Debug, Default)]
pub(super) struct History {
    /// How many leading indexes were forgotten (they are `1..=forgotten`).
    forgotten: Index,
    /// The digest of every command through `forgotten`.
    forgotten_digest: u64,
    /// The highest index applied anywhere.
    last: Index,
    /// The digest of every command through `last`.
    last_digest: u64,
    /// The digests through the multiples of `STRIDE` after `forgotten`, in order.
    checkpoints: VecDeque<u64>,
    /// Where the commands are, oldest first.
    sources: VecDeque<Source>,
}

impl History {
    /// The highest index applied anywhere.
    pub fn last_index(&self) -> Index {
        self.last
    }

    /// The command applied at `index`, unless it is forgotten or not applied yet.
    pub fn get(&self, index: Index) -> Option<Applied<'_>> {
        if index <= self.forgotten || index > self.last {
            return None;
        }
        let source = &self.sources[self.sources.partition_point(|source| source.from <= index) - 1];
        let held = "a history source holds every index it answers for";
        Some(Applied {
            index,
            term: source.log.term_at(index).expect(held),
            command: source.log.command(index).expect(held),
        })
    }

    /// The digest of every command through `index`, unless it is forgotten or not
    /// applied yet: the nearest checkpoint, with the commands after it folded in.
    pub fn digest_at(&self, index: Index) -> Option<u64> {
        if index <= self.forgotten || index > self.last {
            return None;
        }
        if index == self.last {
            return Some(self.last_digest);
        }
        let base = index / STRIDE * STRIDE;
        let (from, digest) = if base > self.forgotten {
            let checkpoint = (base / STRIDE - self.forgotten / STRIDE - 1) as usize;
            (base, self.checkpoints[checkpoint])
        } else {
            (self.forgotten, self.forgotten_digest)
        };
        Some(self.range(from + 1, index).fold(digest, |digest, applied| {
            fold_command(digest, applied.index, applied.command)
        }))
    }

    /// The commands applied at `from..=to` that are not forgotten, in order: walking
    /// the sources' logs, which is much cheaper than looking each one up.
    pub fn range(&self, from: Index, to: Index) -> impl Iterator<Item = Applied<'_>> {
        let from = from.max(self.forgotten + 1);
        let to = to.min(self.last);
        let first_source = if from <= to {
            self.sources.partition_point(|source| source.from <= from) - 1
        } else {
            self.sources.len()
        };
        let sources = &self.sources;
        (first_source..sources.len())
            .take_while(move |&position| sources[position].from <= to)
            .flat_map(move |position| {
                let end = sources
                    .get(position + 1)
                    .map_or(to, |next| to.min(next.from - 1));
                sources[position]
                    .log
                    .refs(from.max(sources[position].from), end)
            })
            .map(|entry| Applied {
                index: entry.index,
                term: entry.term,
                command: entry.command,
            })
    }

    /// `node` (in its life `life`) is about to apply `committed`, whose entries from
    /// `from = last_index() + 1` on nobody applied before: they will be found in the
    /// log they come from.
    pub fn add_source(&mut self, node: NodeId, life: u64, committed: &Entries) {
        let from = self.last_index() + 1;
        let log = committed.log();
        debug_assert!(
            committed.first_index() <= Some(from) && committed.last_index() >= Some(from),
            "a new source starts inside the entries applied"
        );
        // A node never changes an entry it applied while it lives (the core refuses to
        // truncate committed entries, and compaction only removes them), so the same
        // node's newer log answers for its previous stretch too, as long as it still
        // holds it: keep one clone, not one per batch.
        match self.sources.back_mut() {
            Some(last)
                if last.node == node
                    && last.life == life
                    && log.snapshot_index() < last.from
                    && log.term_at(from - 1) == last.log.term_at(from - 1) =>
            {
                last.log = log.clone();
            }
            _ => self.sources.push_back(Source {
                from,
                node,
                life,
                log: log.clone(),
            }),
        }
    }

    /// How many sources answer for the history (for tests of who adds one).
    #[cfg(test)]
    pub(super) fn source_count(&self) -> usize {
        self.sources.len()
    }

    /// Records `command`, applied at `last_index() + 1` and found in the last source.
    pub fn push(&mut self, command: &Command) {
        let index = self.last + 1;
        debug_assert!(
            self.sources
                .back()
                .is_some_and(|source| source.log.command(index) == Some(command)),
            "the command at {index} is found in the last source"
        );
        self.last = index;
        self.last_digest = fold_command(self.last_digest, index, command);
        if index.is_multiple_of(STRIDE) {
            self.checkpoints.push_back(self.last_digest);
        }
    }

    /// Forgets the commands at indexes `..=index` (never the last one).
    pub fn forget_through(&mut self, index: Index) {
        let index = index.min(self.last.saturating_sub(1));
        if index <= self.forgotten {
            return;
        }
        self.forgotten_digest = self
            .digest_at(index)
            .expect("a digest after the forgotten ones is known");
        let passed = (index / STRIDE - self.forgotten / STRIDE) as usize;
        self.checkpoints.drain(..passed.min(self.checkpoints.len()));
        self.forgotten = index;
        // A source is needed while the next one starts after the first index kept.
        while self
            .sources
            .get(1)
            .is_some_and(|next| next.from <= self.forgotten + 1)
        {
            self.sources.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::Entry;

    /// A log whose entry `i` has term `terms[i - 1]` and command `c{i}`.
    fn log_with_terms(terms: &[u64]) -> Log {
        let mut log = Log::new();
        for (position, &term) in terms.iter().enumerate() {
            let index = position as u64 + 1;
            let command = format!("c{index}").into();
            log.push(Entry {
                index,
                term,
                command,
                kind: Default::default(),
            });
        }
        log
    }

    /// Records entries `from..=to` of `log` as applied first by `node`.
    fn apply(history: &mut History, node: NodeId, log: &Log, from: u64, to: u64) {
        let committed = log.entries(from, to);
        history.add_source(node, 1, &committed);
        for entry in &committed {
            history.push(&entry.command);
        }
    }

    #[test]
    fn history_forgets_the_oldest_but_never_the_last() {
        let mut history = History::default();
        let log = log_with_terms(&[1, 1, 2, 2, 3, 3]);
        apply(&mut history, 1, &log, 1, 5);
        let digest_at_3 = history.digest_at(3).unwrap();
        assert_eq!(history.get(4).unwrap().command.as_str(), "c4");
        history.forget_through(3);
        assert_eq!(history.last_index(), 5);
        assert!(history.get(3).is_none() && history.get(4).is_some());
        assert_eq!(history.forgotten_digest, digest_at_3);
        apply(&mut history, 1, &log, 6, 6);
        assert_eq!(history.get(6).unwrap().term, 3);
        history.forget_through(100);
        assert_eq!(history.last_index(), 6);
        assert!(history.get(6).is_some(), "the last command stays");
    }

    #[test]
    fn one_source_per_node_and_stretch_and_none_once_forgotten() {
        let mut history = History::default();
        let mut log = log_with_terms(&[1, 1, 2, 2]);
        apply(&mut history, 1, &log, 1, 2);
        apply(&mut history, 1, &log, 3, 3);
        assert_eq!(
            history.sources.len(),
            1,
            "the same node's newer log answers"
        );
        // A log that changed the last entry applied (only a broken rule does that)
        // does not answer for the stretch before it.
        let mut rewritten = History::default();
        apply(&mut rewritten, 1, &log, 1, 2);
        apply(&mut rewritten, 1, &log_with_terms(&[1, 3, 3, 3]), 3, 3);
        assert_eq!(rewritten.sources.len(), 2);
        // Node 1 compacted what its source answers for: a new source follows.
        log.compact(3, 2);
        apply(&mut history, 1, &log, 4, 4);
        assert_eq!(history.sources.len(), 2);
        let other = log_with_terms(&[1, 1, 1, 1, 1]);
        apply(&mut history, 2, &other, 5, 5);
        assert_eq!(history.sources.len(), 3, "another node starts a source");
        let texts: Vec<String> = (1..=5)
            .map(|index| history.get(index).unwrap().command.to_string())
            .collect();
        assert_eq!(texts, ["c1", "c2", "c3", "c4", "c5"]);
        let walked: Vec<(u64, String)> = history
            .range(0, 10)
            .map(|applied| (applied.index, applied.command.to_string()))
            .collect();
        let looked_up: Vec<(u64, String)> = (1..=5)
            .map(|index| (index, history.get(index).unwrap().command.to_string()))
            .collect();
        assert_eq!(
            walked, looked_up,
            "walking the sources finds what lookups find"
        );
        assert_eq!(history.range(4, 4).count(), 1);
        history.forget_through(4);
        assert_eq!(history.sources.len(), 1, "sources of forgotten indexes go");
        assert_eq!(history.range(1, 5).count(), 1);
        assert_eq!(history.get(5).unwrap().command.as_str(), "c5");
    }

    #[test]
    fn digests_between_checkpoints_are_folded_again() {
        let total = 5 * STRIDE + 7;
        let log = log_with_terms(&vec![1; total as usize]);
        let mut history = History::default();
        apply(&mut history, 1, &log, 1, 100);
        apply(&mut history, 1, &log, 101, total);
        let mut expected = vec![0];
        for entry in log.iter() {
            let previous = *expected.last().unwrap();
            expected.push(fold_command(previous, entry.index, &entry.command));
        }
        for index in 1..=total {
            assert_eq!(
                history.digest_at(index),
                Some(expected[index as usize]),
                "{index}"
            );
        }
        assert_eq!(history.checkpoints.len(), 5);
        history.forget_through(2 * STRIDE + 3);
        assert_eq!(
            history.checkpoints.len(),
            3,
            "checkpoints up to the forgotten go"
        );
        assert_eq!(history.digest_at(2 * STRIDE + 3), None);
        for index in 2 * STRIDE + 4..=total {
            assert_eq!(
                history.digest_at(index),
                Some(expected[index as usize]),
                "{index}"
            );
        }
        // Forgetting again, past one more checkpoint, drops just that one.
        history.forget_through(3 * STRIDE + 1);
        assert_eq!(history.checkpoints.len(), 2);
        for index in 3 * STRIDE + 2..=total {
            assert_eq!(history.digest_at(index), Some(expected[index as usize]));
        }
    }
}
