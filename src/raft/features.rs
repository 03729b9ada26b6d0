//! The switches beyond Lab 3 ([`Features`]): pre-vote (`prevote.rs`), check-quorum
//! (`check_quorum.rs`) and the leader no-op (`election.rs`), each off by default, and
//! their names as the prompt and the command line spell them ([`Feature`]).

use serde::Serialize;

/// Optional mechanisms beyond Lab 3, each a switch that is off by default. With every
/// switch off a node behaves exactly as the lab's Raft; each mechanism lives in the
/// file named for it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Features {
    /// Pre-vote (Ongaro's dissertation §9.6, `prevote.rs`): a node whose election timer
    /// fires first asks whether it could win, without raising its term, so a node that
    /// rejoins after a partition does not depose a healthy leader.
    pub pre_vote: bool,
    /// Check-quorum (dissertation §6.2, with the leader stickiness of §4.2.3,
    /// `check_quorum.rs`): a leader that has not heard from a majority within an
    /// election timeout steps down, and a node that hears from a live leader ignores
    /// requests to vote in a newer term.
    pub check_quorum: bool,
    /// Leader no-op (§8; `election.rs`, on becoming leader): a new leader appends an
    /// empty entry of its term at once, so the entries of older terms before it commit
    /// without waiting for a client's command (§5.4.2). Log indexes shift by one per
    /// election, which is why the lab's tests cannot have it.
    pub leader_no_op: bool,
}

/// One of the switches of [`Features`], by the name the prompt and the command line
/// use for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Feature {
    /// `pre-vote`: [`Features::pre_vote`].
    PreVote,
    /// `check-quorum`: [`Features::check_quorum`].
    CheckQuorum,
    /// `no-op`: [`Features::leader_no_op`].
    LeaderNoOp,
}

impl Feature {
    /// Every switch, in the order views list them.
    pub const ALL: [Feature; 3] = [Feature::PreVote, Feature::CheckQuorum, Feature::LeaderNoOp];

    /// The switch's name: `pre-vote`, `check-quorum`.
    pub fn name(self) -> &'static str {
        match self {
            Feature::PreVote => "pre-vote",
            Feature::CheckQuorum => "check-quorum",
            Feature::LeaderNoOp => "no-op",
        }
    }

    /// What the switch does, in a line, with its section.
    pub fn description(self) -> &'static str {
        match self {
            Feature::PreVote => {
                "ask for pre-votes before raising the term, so a rejoining node does not depose a healthy leader (dissertation §9.6)"
            }
            Feature::CheckQuorum => {
                "a leader that hears from no majority for an election timeout steps down; followers of a live leader ignore vote requests (§6.2, §4.2.3)"
            }
            Feature::LeaderNoOp => {
                "a new leader appends an empty entry of its term, so older entries commit without a client command (§8)"
            }
        }
    }
}

impl std::fmt::Display for Feature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A switch name that is not one of [`Feature::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("no switch {name:?}: expected one of {}", Feature::ALL.map(Feature::name).join(", "))]
pub struct UnknownFeature {
    /// The name given.
    pub name: String,
}

impl std::str::FromStr for Feature {
    type Err = UnknownFeature;

    fn from_str(name: &str) -> Result<Feature, UnknownFeature> {
        Feature::ALL
            .into_iter()
            .find(|feature| feature.name() == name)
            .ok_or_else(|| UnknownFeature {
                name: name.to_string(),
            })
    }
}

impl Features {
    /// True if `feature` is switched on.
    pub fn is_on(&self, feature: Feature) -> bool {
        match feature {
            Feature::PreVote => self.pre_vote,
            Feature::CheckQuorum => self.check_quorum,
            Feature::LeaderNoOp => self.leader_no_op,
        }
    }

    /// Switches `feature` on or off.
    pub fn set(&mut self, feature: Feature, on: bool) {
        match feature {
            Feature::PreVote => self.pre_vote = on,
            Feature::CheckQuorum => self.check_quorum = on,
            Feature::LeaderNoOp => self.leader_no_op = on,
        }
    }

    /// The switches that are on, in [`Feature::ALL`] order.
    pub fn on(&self) -> Vec<Feature> {
        Feature::ALL
            .into_iter()
            .filter(|&feature| self.is_on(feature))
            .collect()
    }

    /// Parses a comma-separated list of switch names (`pre-vote,check-quorum`; empty
    /// for none) into the switches it turns on.
    pub fn parse_list(list: &str) -> Result<Features, UnknownFeature> {
        let mut features = Features::default();
        for name in list
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
        {
            features.set(name.parse()?, true);
        }
        Ok(features)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_names_turns_those_switches_on_and_no_other() {
        let features = Features::parse_list(" pre-vote, no-op ,").unwrap();
        assert_eq!(features.on(), [Feature::PreVote, Feature::LeaderNoOp]);
        assert!(!features.is_on(Feature::CheckQuorum));
        assert_eq!(Features::parse_list("").unwrap(), Features::default());
        for feature in Feature::ALL {
            let one = Features::parse_list(feature.name()).unwrap();
            assert_eq!(one.on(), [feature], "{}", feature.name());
            let mut off = one;
            off.set(feature, false);
            assert_eq!(off, Features::default());
        }
        for feature in Feature::ALL {
            // A line that says what it does and where it comes from.
            let description = feature.description();
            assert!(
                description.contains('§') && description.len() > 40,
                "{description}"
            );
        }
        let unknown = Features::parse_list("pre-vote,fast-commit").unwrap_err();
        assert_eq!(unknown.name, "fast-commit");
    }
}
