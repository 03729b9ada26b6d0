//! raft-playground (overview written below once all layers exist).
pub mod raft;
