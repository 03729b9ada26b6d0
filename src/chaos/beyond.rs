//! Chaos beyond Lab 3: schedules that also run with pre-vote, check-quorum and the
//! leader no-op switched on (from the start, or toggled while the cluster runs), and
//! that draw membership changes (one server added or removed at a time, dissertation
//! §4.1) and leadership transfers (§3.10) among their steps.
//!
//! The Lab 3 schedule draws none of this: with [`ChaosOptions::default`] a seed's
//! run is exactly what it always was (the fingerprint example checks it), because
//! every extra draw sits behind `ChaosOptions::draws_changes`.
//!
//! Membership changes keep the cluster between 1 member and `MAX_NODES` (15) ids: a
//! removal is drawn only while more than one member is left, an addition only while
//! ids remain (ids are never reused, so at most 15 are ever given out). The cluster
//! itself refuses a change the leader may not make yet (one at a time, after a
//! commit in its term); the refusal is recorded in the schedule like any other.

use super::{Chaos, ChaosOptions};
use crate::cluster::action::MAX_NODES;
use crate::cluster::{Action, Setting};
use crate::raft::{Feature, Features};
use rand::RngExt;

/// How often a step is a membership change, a transfer or a toggled switch, when
/// the options allow them.
pub(super) const CHANGE_RATE: f64 = 0.06;

impl ChaosOptions {
    /// True if the schedule draws steps beyond Lab 3 at all.
    pub(super) fn draws_changes(&self) -> bool {
        self.membership || self.toggle
    }

    /// The settings that switch the options' features on, applied as the first
    /// actions of the run.
    pub(super) fn initial_settings(&self) -> Vec<Setting> {
        self.features
            .on()
            .into_iter()
            .map(|feature| Setting::Feature(feature, true))
            .collect()
    }

    /// The options in words, for a report's setup line (empty for Lab 3).
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .features
            .on()
            .into_iter()
            .map(|feature| feature.name().to_string())
            .collect();
        if self.membership {
            parts.push("membership changes and transfers".to_string());
        }
        if self.toggle {
            parts.push("switches toggled".to_string());
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("; {}", parts.join(", "))
        }
    }

    /// The options as `raft-playground chaos` flags, each with a leading space
    /// (empty for Lab 3).
    pub fn flags(&self) -> String {
        let mut flags: Vec<&str> = Vec::new();
        for (feature, flag) in [
            (Feature::PreVote, "--pre-vote"),
            (Feature::CheckQuorum, "--check-quorum"),
            (Feature::LeaderNoOp, "--no-op"),
        ] {
            if self.features.is_on(feature) {
                flags.push(flag);
            }
        }
        if self.membership {
            flags.push("--membership");
        }
        if self.toggle {
            flags.push("--toggle");
        }
        flags.iter().map(|flag| format!(" {flag}")).collect()
    }

    /// The eight combinations of the three switches, each with `membership` and
    /// `toggle` as given, in a fixed order (none first, all last).
    pub fn every_combination(membership: bool, toggle: bool) -> Vec<ChaosOptions> {
        (0..8u8)
            .map(|bits| {
                let mut features = Features::default();
                for (bit, feature) in Feature::ALL.into_iter().enumerate() {
                    features.set(feature, bits & (1 << bit) != 0);
                }
                ChaosOptions {
                    features,
                    membership,
                    toggle,
                    ..ChaosOptions::default()
                }
            })
            .collect()
    }
}

impl Chaos<'_> {
    /// One step beyond Lab 3: add or remove a server, start a transfer, or flip a
    /// switch (only what the options allow).
    pub(super) fn random_change(&mut self) {
        let kinds: Vec<u8> = [
            (self.options.membership, 0),
            (self.options.membership, 1),
            (self.options.membership, 2),
            (self.options.toggle, 3),
        ]
        .into_iter()
        .filter_map(|(allowed, kind)| allowed.then_some(kind))
        .collect();
        match kinds[self.rng.random_range(0..kinds.len())] {
            0 => self.add_server(),
            1 => self.remove_server(),
            2 => self.transfer_leadership(),
            _ => self.toggle_switch(),
        }
    }

    /// Asks the leader (if any) to add a new server, while ids remain.
    fn add_server(&mut self) {
        let Some(leader) = self.cluster.leader() else {
            return;
        };
        if self.cluster.size() >= MAX_NODES {
            return;
        }
        // Refused (changing nothing) if the leader may not change the membership yet.
        let _ = self.act(Action::AddNode { leader });
    }

    /// Asks the leader (if any) to remove a random member (itself included), while
    /// more than one is left.
    fn remove_server(&mut self) {
        let Some(leader) = self.cluster.leader() else {
            return;
        };
        if self.nodes() <= 1 {
            return;
        }
        let node = self.random_node();
        let _ = self.act(Action::RemoveNode { leader, node });
    }

    /// Asks the leader (if any) to hand its leadership to a random member.
    fn transfer_leadership(&mut self) {
        let Some(leader) = self.cluster.leader() else {
            return;
        };
        let target = self.random_node();
        // Refused if the target is the leader itself, a learner, or not a member.
        let _ = self.act(Action::Transfer { leader, target });
    }

    /// Switches pre-vote, check-quorum or the no-op on or off.
    fn toggle_switch(&mut self) {
        let feature = Feature::ALL[self.rng.random_range(0..Feature::ALL.len())];
        let on = self.rng.random_bool(0.5);
        self.act_surely(Action::Set(Setting::Feature(feature, on)));
    }
}
