//! Rules that can be broken on purpose, to see why Raft needs each of them.
//!
//! Every [`Rule`] names one rule of the paper (Figure 2, Figure 13, §5.4) that the
//! core follows. A [`BrokenRules`] set in the core's configuration
//! ([`super::RaftConfig::broken`]) switches some of them off. Each switch is checked
//! at the one place in `raft/` where its rule lives, and that check documents the
//! rule: read it as "without this line, Figure 8 happens". With the set empty (the
//! default) the core is Lab 3's exact Raft, and a run is identical to one from a core
//! without switches.
//!
//! The switches exist for learning and for proving the safety checker: with one rule
//! broken, a search over chaos schedules finds a run in which the checker
//! (`cluster/checker.rs`, which never asks the core whether it behaved) reports a
//! broken invariant. The core tolerates the states a broken rule makes possible
//! rather than asserting on them, so the damage shows up as a checker violation.

use std::fmt;

/// One rule of the paper that a switch can break. See the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// §5.4.2, Figure 8: a leader commits an entry of its own term by counting
    /// replicas, never one of an earlier term.
    CommitOldTerms,
    /// §5.4.1, the election restriction: a vote goes only to a candidate whose log
    /// is at least as up-to-date as the voter's.
    VoteWithoutLogCheck,
    /// Figure 2, persistent state: `voted_for` is persisted before the vote is sent.
    ForgetVote,
    /// Figure 2, persistent state: a follower persists the entries it accepts before
    /// it acknowledges them.
    ForgetLog,
    /// Figure 2, AppendEntries rule 3: only a conflicting entry, and what follows it,
    /// is deleted.
    TruncateOnMatch,
    /// Figure 2, AppendEntries rule 1: a request from an older term is refused.
    AcceptStaleLeader,
    /// §5.1: a reply from an older term is dropped, so a leader never counts an
    /// answer to an earlier term's request.
    StaleReply,
    /// Figure 2, RequestVote rule 2: at most one vote per term.
    DoubleVote,
    /// Figure 2, AppendEntries rule 5: a follower's commit index is bounded by the
    /// last entry the request vouched for.
    CommitToLeaderCommit,
    /// Figure 13: a snapshot older than what the node has committed is ignored.
    SnapshotBackwards,
    /// §5.2, §5.3: a decision takes a strict majority of the cluster.
    SmallQuorum,
    /// Figure 2, persistent state: `current_term` is persisted when it changes,
    /// also when it is learned from a message.
    ForgetTerm,
}

impl Rule {
    /// Every rule, in the order the `rules` view lists them.
    pub const ALL: [Rule; 12] = [
        Rule::CommitOldTerms,
        Rule::VoteWithoutLogCheck,
        Rule::ForgetVote,
        Rule::ForgetLog,
        Rule::TruncateOnMatch,
        Rule::AcceptStaleLeader,
        Rule::StaleReply,
        Rule::DoubleVote,
        Rule::CommitToLeaderCommit,
        Rule::SnapshotBackwards,
        Rule::SmallQuorum,
        Rule::ForgetTerm,
    ];

    /// The switch's name, as `break NAME` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Rule::CommitOldTerms => "commit-old-terms",
            Rule::VoteWithoutLogCheck => "vote-without-log-check",
            Rule::ForgetVote => "forget-vote",
            Rule::ForgetLog => "forget-log",
            Rule::TruncateOnMatch => "truncate-on-match",
            Rule::AcceptStaleLeader => "accept-stale-leader",
            Rule::StaleReply => "stale-reply",
            Rule::DoubleVote => "double-vote",
            Rule::CommitToLeaderCommit => "commit-to-leader-commit",
            Rule::SnapshotBackwards => "snapshot-backwards",
            Rule::SmallQuorum => "small-quorum",
            Rule::ForgetTerm => "forget-term",
        }
    }

    /// What breaking the rule does, in one line with the paper's section.
    pub fn description(self) -> &'static str {
        match self {
            Rule::CommitOldTerms => {
                "a leader commits an entry of an earlier term by counting replicas (§5.4.2, Figure 8)"
            }
            Rule::VoteWithoutLogCheck => {
                "a voter grants its vote without the election restriction (§5.4.1)"
            }
            Rule::ForgetVote => {
                "voted_for is not persisted: after a restart a node may vote again in the same term (Figure 2, persistent state)"
            }
            Rule::ForgetLog => {
                "a follower acknowledges entries without persisting them: a restart loses them (Figure 2, persistent state)"
            }
            Rule::TruncateOnMatch => {
                "a follower deletes everything after prev_log_index even when the entries match, so a stale, reordered AppendEntries erases newer entries (Figure 2, AppendEntries rule 3)"
            }
            Rule::AcceptStaleLeader => {
                "a follower accepts AppendEntries from an older term (Figure 2, AppendEntries rule 1)"
            }
            Rule::StaleReply => {
                "a leader updates match_index from a reply to an older term's request (term confusion, §5.1)"
            }
            Rule::DoubleVote => {
                "a node votes for a second candidate in the same term (Figure 2, RequestVote rule 2)"
            }
            Rule::CommitToLeaderCommit => {
                "a follower sets commit_index = leader_commit without bounding it by its last new entry (Figure 2, AppendEntries rule 5)"
            }
            Rule::SnapshotBackwards => {
                "a node installs a snapshot older than what it has already applied (Figure 13)"
            }
            Rule::SmallQuorum => {
                "a quorum is counted as half the cluster (rounded down) instead of a strict majority (§5.2, §5.3)"
            }
            Rule::ForgetTerm => {
                "a term learned from a message is not persisted (Figure 2, persistent state)"
            }
        }
    }

    /// The rule with this name, or an error that lists every name.
    pub fn from_name(name: &str) -> Result<Rule, UnknownRule> {
        Rule::ALL
            .into_iter()
            .find(|rule| rule.name() == name)
            .ok_or_else(|| UnknownRule(name.chars().take(40).collect()))
    }

    /// This rule's bit in a [`BrokenRules`] set.
    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is no rule; the message lists the rules there are.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown rule `{0}`; the rules are {names}", names = rule_names())]
pub struct UnknownRule(pub String);

/// Every rule's name, comma-separated, for messages.
fn rule_names() -> String {
    let names: Vec<&str> = Rule::ALL.iter().map(|rule| rule.name()).collect();
    names.join(", ")
}

/// Every rule as `(name, one-line description with the paper's section)`, in the
/// order the `rules` view lists them.
pub fn rules() -> Vec<(&'static str, &'static str)> {
    Rule::ALL
        .iter()
        .map(|rule| (rule.name(), rule.description()))
        .collect()
}

/// The set of rules a core breaks on purpose. Empty by default: every rule holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct BrokenRules(u16);

impl BrokenRules {
    /// No rule broken.
    pub const fn none() -> BrokenRules {
        BrokenRules(0)
    }

    /// True if `rule` is broken.
    pub fn contains(self, rule: Rule) -> bool {
        self.0 & rule.bit() != 0
    }

    /// True if every rule holds.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Breaks (`true`) or restores (`false`) one rule; returns whether that changed
    /// anything.
    pub fn set(&mut self, rule: Rule, broken: bool) -> bool {
        let before = self.0;
        if broken {
            self.0 |= rule.bit();
        } else {
            self.0 &= !rule.bit();
        }
        self.0 != before
    }

    /// The broken rules, in the order of [`Rule::ALL`].
    pub fn iter(self) -> impl Iterator<Item = Rule> {
        Rule::ALL
            .into_iter()
            .filter(move |&rule| self.contains(rule))
    }
}

impl FromIterator<Rule> for BrokenRules {
    fn from_iter<I: IntoIterator<Item = Rule>>(rules: I) -> BrokenRules {
        let mut set = BrokenRules::none();
        for rule in rules {
            set.set(rule, true);
        }
        set
    }
}

impl fmt::Display for BrokenRules {
    /// The broken rules' names, comma-separated (`none` if every rule holds).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let names: Vec<&str> = self.iter().map(Rule::name).collect();
        f.write_str(&names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_rules() {
        for rule in Rule::ALL {
            assert_eq!(Rule::from_name(rule.name()), Ok(rule));
            assert!(rule.description().contains('§') || rule.description().contains("Figure"));
        }
        let error = Rule::from_name("no-such-rule").unwrap_err().to_string();
        assert!(error.starts_with("unknown rule `no-such-rule`; the rules are commit-old-terms,"));
        assert!(error.ends_with("small-quorum, forget-term"), "{error}");
        assert_eq!(rules().len(), 12);
        assert_eq!(rules()[0].0, "commit-old-terms");
    }

    #[test]
    fn a_set_of_broken_rules() {
        let mut broken = BrokenRules::default();
        assert!(broken.is_empty());
        assert_eq!(broken.to_string(), "none");
        assert!(broken.set(Rule::ForgetTerm, true));
        assert!(!broken.set(Rule::ForgetTerm, true), "already broken");
        assert!(broken.set(Rule::CommitOldTerms, true));
        assert!(broken.contains(Rule::ForgetTerm) && !broken.contains(Rule::ForgetVote));
        assert_eq!(broken.to_string(), "commit-old-terms, forget-term");
        assert!(broken.set(Rule::ForgetTerm, false));
        assert_eq!(broken.iter().collect::<Vec<_>>(), [Rule::CommitOldTerms]);
        let all: BrokenRules = Rule::ALL.into_iter().collect();
        assert_eq!(all.iter().count(), 12);
    }
}
