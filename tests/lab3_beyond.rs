//! The 28 lab scenarios of `tests/lab3.rs` again, with pre-vote (dissertation §9.6)
//! and check-quorum (§6.2, with leader stickiness) switched on. Neither changes what
//! the lab asserts: a leader is still elected, re-elected after failures, and commits
//! everything the tests expect; only how elections start and end differs. (The leader
//! no-op is not among them: it shifts the log indexes the lab's tests count on.)
//!
//! `LAB3_FEATURES=...` in the environment overrides the switches here as in
//! `tests/lab3.rs`.

/// The switches this binary runs the suite with (read by `common/lab.rs`).
const LAB3_FEATURES: &str = "pre-vote,check-quorum";

#[path = "lab3.rs"]
mod suite;

/// The suite above really runs with the switches on (unless the environment says
/// otherwise).
#[test]
fn the_suite_runs_with_pre_vote_and_check_quorum() {
    if std::env::var_os("LAB3_FEATURES").is_none() {
        let features = suite::lab::features();
        assert!(features.pre_vote && features.check_quorum, "{features:?}");
    }
}
