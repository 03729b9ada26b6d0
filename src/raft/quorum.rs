//! Majorities: the one place that says how many nodes make a decision.
//!
//! Raft decides two things by majority: an election (§5.2, "a candidate wins an
//! election if it receives votes from a majority of the servers in the full cluster")
//! and a commit (§5.3, an entry is committed once "replicated on a majority of the
//! servers"). Both ask the functions here, so a change to what a quorum is (joint
//! consensus in §6 would need two majorities) has one place to go.

use super::Index;
use super::rules::{BrokenRules, Rule};

/// The number of nodes that make a majority of `voters` nodes: more than half.
///
/// Any two majorities share a node, which is what makes one election per term and
/// one entry per committed index possible. Without it (`small-quorum`, half rounded
/// down), two halves of the cluster decide apart: two leaders in a term.
pub fn quorum_size(voters: usize, broken: BrokenRules) -> usize {
    if broken.contains(Rule::SmallQuorum) {
        return (voters / 2).max(1);
    }
    voters / 2 + 1
}

/// True if `agreeing` nodes out of `voters` are a majority (§5.2: votes granted).
pub fn is_quorum(agreeing: usize, voters: usize, broken: BrokenRules) -> bool {
    agreeing >= quorum_size(voters, broken)
}

/// The highest index stored on a majority (§5.3): with the match indexes of every
/// voter (the leader's own last index included) sorted from high to low, the
/// [`quorum_size`]-th one. Every index up to it is stored on at least a majority.
pub fn quorum_match_index(match_indexes: &mut [Index], broken: BrokenRules) -> Index {
    assert!(!match_indexes.is_empty(), "a quorum needs voters");
    let quorum = quorum_size(match_indexes.len(), broken);
    match_indexes.sort_unstable_by(|a, b| b.cmp(a));
    match_indexes[quorum - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTACT: BrokenRules = BrokenRules::none();

    #[test]
    fn a_quorum_is_more_than_half() {
        let sizes: Vec<usize> = (1..=7).map(|voters| quorum_size(voters, INTACT)).collect();
        assert_eq!(sizes, [1, 2, 2, 3, 3, 4, 4]);
        assert!(is_quorum(2, 3, INTACT));
        assert!(!is_quorum(1, 3, INTACT));
        assert!(!is_quorum(2, 4, INTACT), "half is not a majority");
        assert!(is_quorum(1, 1, INTACT));
    }

    #[test]
    fn a_small_quorum_is_half_rounded_down() {
        let small: BrokenRules = [Rule::SmallQuorum].into_iter().collect();
        let sizes: Vec<usize> = (1..=7).map(|voters| quorum_size(voters, small)).collect();
        assert_eq!(sizes, [1, 1, 1, 2, 2, 3, 3]);
        assert!(is_quorum(2, 4, small), "two halves of four both decide");
        assert_eq!(quorum_match_index(&mut [9, 9, 1, 1, 1], small), 9);
    }

    #[test]
    fn quorum_match_index_is_the_majority_floor() {
        assert_eq!(quorum_match_index(&mut [5, 3, 9], INTACT), 5);
        assert_eq!(quorum_match_index(&mut [1, 2, 3, 4, 5], INTACT), 3);
        assert_eq!(quorum_match_index(&mut [7], INTACT), 7);
        // Four voters need three: the third highest.
        assert_eq!(quorum_match_index(&mut [8, 8, 2, 6], INTACT), 6);
    }
}
