//! Digests: one way to fold what happened into 64 bits, so two runs, two replicas or a
//! snapshot and the log it replaces can be compared by one number.
//!
//! Two things are digested: the commands a state machine applied, in order
//! ([`fold_command`]: the key-value store keeps it, the checker keeps the same chain
//! to check a snapshot against the commands it replaces — they must agree, so both
//! call this one function), and a run's whole history of trace events ([`Folder`],
//! a [`Hasher`] that the trace feeds every event through). Both are the same fold:
//! each 8-byte word is mixed in FNV-style, and [`Folder::finish`] runs splitmix64's
//! finalizer. Not cryptographic: it detects accidental differences, with
//! overwhelming probability, and it is fast (a trace event costs a few
//! multiplications, not a SipHash).

use std::hash::Hasher;

/// The FNV-1a 64-bit prime: each word is xored in, then multiplied by it.
const PRIME: u64 = 0x0000_0100_0000_01b3;
/// The FNV-1a 64-bit offset basis, xored into the starting value.
const BASIS: u64 = 0xcbf2_9ce4_8422_2325;

/// A running fold of words, started from a previous digest.
#[derive(Clone, Copy, Debug)]
pub struct Folder(u64);

impl Folder {
    /// A fold that continues from `digest`.
    pub fn continuing(digest: u64) -> Folder {
        Folder((digest ^ BASIS).wrapping_mul(PRIME))
    }

    /// Mixes in one word.
    fn word(&mut self, word: u64) {
        self.0 = (self.0 ^ word).wrapping_mul(PRIME);
    }
}

impl Hasher for Folder {
    /// The digest so far, mixed (splitmix64's finalizer) so that nearby inputs give
    /// far-apart outputs.
    fn finish(&self) -> u64 {
        let mut hash = self.0;
        hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        hash ^ (hash >> 31)
    }

    /// Bytes, eight at a time; a short tail is padded with zeros (callers that need
    /// to tell `ab` from `ab\0` write the length first, as `str`'s `Hash` does).
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.word(u64::from_le_bytes(
                chunk.try_into().expect("chunks of eight"),
            ));
        }
        let remainder = chunks.remainder();
        if !remainder.is_empty() {
            let mut tail = [0u8; 8];
            tail[..remainder.len()].copy_from_slice(remainder);
            self.word(u64::from_le_bytes(tail));
        }
    }

    fn write_u8(&mut self, value: u8) {
        self.word(u64::from(value));
    }

    fn write_u32(&mut self, value: u32) {
        self.word(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.word(value);
    }

    fn write_usize(&mut self, value: usize) {
        self.word(value as u64);
    }
}

/// Folds one applied command into a running digest of a state machine's history: its
/// index, its length and its text. Any difference in order or content gives a
/// different digest, with overwhelming probability.
pub fn fold_command(digest: u64, index: u64, command: &str) -> u64 {
    let mut folder = Folder::continuing(digest);
    folder.word(index);
    folder.word(command.len() as u64);
    folder.write(command.as_bytes());
    if command.len().is_multiple_of(8) {
        // Keep the historical shape: an empty tail word after whole words.
        folder.word(0);
    }
    folder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::Hash;

    #[test]
    fn a_command_digest_depends_on_order_index_and_content() {
        assert_ne!(fold_command(0, 1, "ab"), fold_command(0, 1, "ab\0"));
        assert_ne!(fold_command(0, 1, "x"), fold_command(0, 2, "x"));
        assert_ne!(fold_command(1, 1, "x"), fold_command(2, 1, "x"));
        let ab = fold_command(fold_command(0, 1, "a"), 2, "b");
        let ba = fold_command(fold_command(0, 1, "b"), 2, "a");
        assert_ne!(ab, ba);
        assert_eq!(ab, fold_command(fold_command(0, 1, "a"), 2, "b"));
    }

    #[test]
    fn the_folder_hashes_values_through_their_hash() {
        let digest = |value: &dyn Fn(&mut Folder)| {
            let mut folder = Folder::continuing(7);
            value(&mut folder);
            folder.finish()
        };
        let of = |text: &'static str| digest(&move |folder: &mut Folder| text.hash(folder));
        assert_ne!(of("abcdefgh"), of("abcdefgh\0"));
        assert_ne!(of("x"), of("y"));
        assert_eq!(of("x"), of("x"));
        assert_ne!(
            digest(&|folder| (1u64, 2u64).hash(folder)),
            digest(&|folder| (2u64, 1u64).hash(folder))
        );
    }
}
