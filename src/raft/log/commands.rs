//! The commands of a log in a sequence whose clones share their storage: cloning it
//! copies three pointers, never a command (a persistent vector).
//!
//! Commands sit in *leaves* of [`LEAF`] commands and leaves in *pages* of [`PAGE`]
//! leaves. A full leaf or page never changes again, so every clone shares it behind a
//! reference count. Only the last, partly filled leaf (the *tail*) and the last,
//! partly filled page (the open *leaves*) are written to; if a clone shares them, the
//! first write copies them (at most `LEAF` commands or `PAGE` pointers: copy on
//! write). So a node's core can append right after its storage took a clone of its
//! log, and the two keep sharing everything but the last few commands.
//!
//! Dropping commands from the front (compaction) frees whole pages, or whole leaves
//! of the open page, as soon as they hold only dropped commands; a few dropped ones may
//! wait in the first page until it empties.

use std::sync::Arc;

use super::super::entry::Command;

/// Commands per leaf.
pub(super) const LEAF: usize = 64;
/// Leaves per page.
pub(super) const PAGE: usize = 64;
/// Commands per page.
const PAGE_COMMANDS: usize = LEAF * PAGE;

/// A full leaf: exactly [`LEAF`] commands, never changed again.
type Leaf = Arc<[Command]>;
/// A full page: exactly [`PAGE`] leaves, never changed again.
type Page = Arc<[Leaf]>;

/// A vector shared between clones and copied on write; an empty one allocates
/// nothing, so empty logs (and empty views of a log) cost no allocation.
#[derive(Debug)]
pub(super) struct SharedVec<T>(Option<Arc<Vec<T>>>);

impl<T> Default for SharedVec<T> {
    fn default() -> SharedVec<T> {
        SharedVec(None)
    }
}

impl<T> Clone for SharedVec<T> {
    fn clone(&self) -> SharedVec<T> {
        SharedVec(self.0.clone())
    }
}

impl<T> std::ops::Deref for SharedVec<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }
}

impl<T: PartialEq> PartialEq for SharedVec<T> {
    fn eq(&self, other: &SharedVec<T>) -> bool {
        **self == **other
    }
}

impl<T: Eq> Eq for SharedVec<T> {}

impl<T: Clone> SharedVec<T> {
    /// A vector with room for `capacity` elements, holding a copy of `elements`.
    fn copied(elements: &[T], capacity: usize) -> SharedVec<T> {
        let mut vector = Vec::with_capacity(capacity.max(elements.len()));
        vector.extend_from_slice(elements);
        SharedVec(Some(Arc::new(vector)))
    }

    /// The vector, made this value's own first (copied, with room for `capacity`
    /// elements, if a clone shares it).
    pub(super) fn make_mut(&mut self, capacity: usize) -> &mut Vec<T> {
        let shared = self.0.get_or_insert_with(|| Arc::new(Vec::new()));
        if Arc::get_mut(shared).is_none() {
            let mut copy = Vec::with_capacity(capacity.max(shared.len()));
            copy.extend_from_slice(shared);
            *shared = Arc::new(copy);
        }
        let vector = Arc::get_mut(shared).expect("the vector was just made unique");
        if vector.capacity() == 0 {
            vector.reserve_exact(capacity);
        }
        vector
    }

    /// True if both share one vector (or both are empty without one).
    #[cfg(test)]
    fn shares_with(&self, other: &SharedVec<T>) -> bool {
        match (&self.0, &other.0) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        }
    }
}

/// A sequence of commands; see the module documentation.
///
/// Invariant: every page holds `PAGE` leaves and every leaf `LEAF` commands; `leaves`
/// holds fewer than `PAGE` leaves and `tail` fewer than `LEAF` commands; `dead` (the
/// dropped slots at the front) is less than the number of slots.
#[derive(Clone, Default)]
pub(super) struct Commands {
    /// Full pages, oldest first.
    pages: SharedVec<Page>,
    /// Full leaves after the pages.
    leaves: SharedVec<Leaf>,
    /// The commands after those leaves.
    tail: SharedVec<Command>,
    /// Slots at the front whose commands were dropped but whose leaf is still held.
    dead: usize,
}

impl Commands {
    /// The number of slots, dropped ones included.
    fn slots(&self) -> usize {
        self.pages.len() * PAGE_COMMANDS + self.leaves.len() * LEAF + self.tail.len()
    }

    /// The number of commands held.
    pub(super) fn len(&self) -> usize {
        self.slots() - self.dead
    }

    /// The commands from slot `slot` to the end of its leaf (or of the tail).
    fn run_at(&self, slot: usize) -> &[Command] {
        let paged = self.pages.len() * PAGE_COMMANDS;
        if slot < paged {
            let within = slot % PAGE_COMMANDS;
            return &self.pages[slot / PAGE_COMMANDS][within / LEAF][within % LEAF..];
        }
        let slot = slot - paged;
        let leafed = self.leaves.len() * LEAF;
        if slot < leafed {
            return &self.leaves[slot / LEAF][slot % LEAF..];
        }
        &self.tail[slot - leafed..]
    }

    /// The command at `position` (0 is the first one held).
    pub(super) fn get(&self, position: usize) -> Option<&Command> {
        if position >= self.len() {
            return None;
        }
        self.run_at(self.dead + position).first()
    }

    /// The commands at `positions`, in order (clamped to what is held).
    pub(super) fn range(&self, positions: std::ops::Range<usize>) -> Iter<'_> {
        let end = positions.end.min(self.len());
        let start = positions.start.min(end);
        Iter {
            commands: self,
            next_slot: self.dead + start,
            end_slot: self.dead + end,
            run: [].iter(),
        }
    }

    /// Appends a command.
    pub(super) fn push(&mut self, command: Command) {
        let tail = self.tail.make_mut(LEAF);
        tail.push(command);
        if tail.len() < LEAF {
            return;
        }
        // The tail is full: it becomes a leaf of the open page.
        let leaf: Leaf = Arc::from(std::mem::take(tail));
        let leaves = self.leaves.make_mut(PAGE);
        leaves.push(leaf);
        if leaves.len() < PAGE {
            return;
        }
        let page: Page = Arc::from(std::mem::take(leaves));
        self.pages.make_mut(0).push(page);
    }

    /// Keeps the first `len` commands and drops the rest.
    pub(super) fn truncate(&mut self, len: usize) {
        if len >= self.len() {
            return;
        }
        if len == 0 {
            *self = Commands::default();
            return;
        }
        let end = self.dead + len;
        let paged = self.pages.len() * PAGE_COMMANDS;
        if end < paged {
            // The cut falls inside a full page: its leaves before the cut become the
            // open page, and the part of the cut leaf before it the tail.
            let page = self.pages[end / PAGE_COMMANDS].clone();
            self.pages.make_mut(0).truncate(end / PAGE_COMMANDS);
            let within = end % PAGE_COMMANDS;
            self.leaves = SharedVec::copied(&page[..within / LEAF], PAGE);
            self.tail = SharedVec::copied(&page[within / LEAF][..within % LEAF], LEAF);
            return;
        }
        let end = end - paged;
        let leafed = self.leaves.len() * LEAF;
        if end < leafed {
            // The cut falls inside a full leaf of the open page.
            let leaf = self.leaves[end / LEAF].clone();
            self.leaves.make_mut(PAGE).truncate(end / LEAF);
            self.tail = SharedVec::copied(&leaf[..end % LEAF], LEAF);
        } else {
            self.tail.make_mut(LEAF).truncate(end - leafed);
        }
    }

    /// Drops the first `count` commands.
    pub(super) fn drop_front(&mut self, count: usize) {
        if count >= self.len() {
            *self = Commands::default();
            return;
        }
        self.dead += count;
        let whole_pages = (self.dead / PAGE_COMMANDS).min(self.pages.len());
        if whole_pages > 0 {
            self.pages.make_mut(0).drain(..whole_pages);
            self.dead -= whole_pages * PAGE_COMMANDS;
        }
        if self.pages.is_empty() {
            let whole_leaves = (self.dead / LEAF).min(self.leaves.len());
            if whole_leaves > 0 {
                self.leaves.make_mut(PAGE).drain(..whole_leaves);
                self.dead -= whole_leaves * LEAF;
            }
        }
    }
}

/// The commands of a range, in order. See [`Commands::range`].
#[derive(Clone)]
pub(super) struct Iter<'a> {
    /// The sequence.
    commands: &'a Commands,
    /// The slot after the ones in `run`.
    next_slot: usize,
    /// The slot after the last one to yield.
    end_slot: usize,
    /// What is left of the current leaf.
    run: std::slice::Iter<'a, Command>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Command;

    fn next(&mut self) -> Option<&'a Command> {
        if let Some(command) = self.run.next() {
            return Some(command);
        }
        if self.next_slot >= self.end_slot {
            return None;
        }
        let run = self.commands.run_at(self.next_slot);
        let take = run.len().min(self.end_slot - self.next_slot);
        self.next_slot += take;
        self.run = run[..take].iter();
        self.run.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.run.len() + (self.end_slot - self.next_slot);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(number: usize) -> Command {
        Command::from(format!("c{number}"))
    }

    fn contents(commands: &Commands) -> Vec<String> {
        commands
            .range(0..usize::MAX)
            .map(|command| command.to_string())
            .collect()
    }

    /// Random pushes, truncations, front drops and clones, each checked against a
    /// plain vector, and every clone checked again after its original moved on.
    #[test]
    fn behaves_like_a_vector_and_clones_stay_unchanged() {
        use rand::rngs::Xoshiro256PlusPlus;
        use rand::{RngExt, SeedableRng};
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let mut commands = Commands::default();
        let mut model: Vec<String> = Vec::new();
        let mut clones: Vec<(Commands, Vec<String>)> = Vec::new();
        let mut next = 0;
        for step in 0..3000 {
            match rng.random_range(0..100) {
                0..70 => {
                    for _ in 0..rng.random_range(1..300) {
                        commands.push(command(next));
                        model.push(format!("c{next}"));
                        next += 1;
                    }
                }
                70..80 => {
                    let len = rng.random_range(0..=model.len());
                    commands.truncate(len);
                    model.truncate(len);
                }
                80..90 => {
                    let count = rng.random_range(0..=model.len());
                    commands.drop_front(count);
                    model.drain(..count);
                }
                _ => clones.push((commands.clone(), model.clone())),
            }
            assert_eq!(commands.len(), model.len(), "step {step}");
            if step % 50 == 0 {
                assert_eq!(contents(&commands), model, "step {step}");
            }
        }
        assert_eq!(contents(&commands), model);
        for (position, expected) in model.iter().enumerate() {
            assert_eq!(commands.get(position).unwrap().as_str(), expected);
        }
        assert!(commands.get(model.len()).is_none());
        for (clone, expected) in &clones {
            assert_eq!(&contents(clone), expected, "a clone never changes");
        }
    }

    #[test]
    fn ranges_cross_leaves_and_pages() {
        let mut commands = Commands::default();
        let total = 2 * PAGE_COMMANDS + 3 * LEAF + 5;
        for number in 0..total {
            commands.push(command(number));
        }
        assert_eq!(commands.pages.len(), 2);
        assert_eq!(commands.leaves.len(), 3);
        assert_eq!(commands.tail.len(), 5);
        let from = PAGE_COMMANDS - 3;
        let range: Vec<String> = commands
            .range(from..total - 2)
            .map(|command| command.to_string())
            .collect();
        let expected: Vec<String> = (from..total - 2).map(|n| format!("c{n}")).collect();
        assert_eq!(range, expected);
        assert_eq!(commands.range(from..total - 2).len(), expected.len());
        assert_eq!(commands.range(total..total + 10).count(), 0);
    }

    #[test]
    fn clones_share_full_leaves_and_copy_only_the_tail() {
        let mut commands = Commands::default();
        for number in 0..PAGE_COMMANDS + LEAF + 1 {
            commands.push(command(number));
        }
        let clone = commands.clone();
        commands.push(command(0));
        // Appending after a clone copied only the tail: pages and leaves are shared.
        assert!(commands.pages.shares_with(&clone.pages));
        assert!(commands.leaves.shares_with(&clone.leaves));
        assert!(!commands.tail.shares_with(&clone.tail));
        assert_eq!(clone.len() + 1, commands.len());
    }

    #[test]
    fn dropping_the_front_frees_whole_pages_and_leaves() {
        let mut commands = Commands::default();
        for number in 0..2 * PAGE_COMMANDS + 2 * LEAF {
            commands.push(command(number));
        }
        commands.drop_front(PAGE_COMMANDS + 1);
        assert_eq!(commands.pages.len(), 1, "the first page is freed");
        assert_eq!(commands.dead, 1);
        assert_eq!(commands.get(0).unwrap().as_str(), "c4097");
        commands.drop_front(PAGE_COMMANDS + LEAF);
        assert!(commands.pages.is_empty());
        assert_eq!(commands.leaves.len(), 1, "a leaf of the open page is freed");
        assert_eq!(commands.len(), LEAF - 1);
        commands.drop_front(commands.len());
        assert_eq!(commands.slots(), 0);
    }
}
