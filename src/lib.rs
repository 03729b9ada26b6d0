//! # raft-playground
//!
//! A playground for the Raft consensus algorithm as MIT 6.5840 Lab 3 specifies it:
//! leader election, log replication, persistence, and log compaction with snapshots.
//! One process runs N nodes, each on its own OS thread, joined by channels through a
//! router that can drop, delay, duplicate and reorder messages, cut links and split
//! the network. Time is virtual, so every run is reproducible from its seed.
//!
//! ## Layers (data flows down, never back up)
//!
//! - [`cli`]: the binary's text side: argument parsing, the interactive prompt, the
//!   script runner, and rendering in color or JSON. One grammar and one executor
//!   serve both the prompt and scripts, so a demo is exactly what a person could type.
//! - [`cluster`]: the runtime. [`Cluster`] starts node threads, moves virtual time in
//!   lockstep, routes messages through the fault-injecting router, crashes and
//!   restarts nodes from what they persisted, and checks every safety property of
//!   the paper on every step (`cluster/checker.rs`). Everything that changes it is
//!   an [`Action`] applied by [`Cluster::apply`]; an action prints as the script line
//!   that reads back as it, so a list of actions is a script.
//! - [`raft`]: the consensus core, pure and deterministic: no threads, clocks or I/O.
//!   A [`raft::Node`] takes ticks, messages, proposals and snapshots, and hands back
//!   what to persist, send and apply. Start reading here to learn Raft.
//! - [`kv`]: the replicated state machine, a key-value map driven by text commands.
//!
//! ## A first program
//!
//! ```
//! use raft_playground::{Action, Cluster, Config, Outcome, Role};
//!
//! let mut cluster = Cluster::new(Config::new(3).seed(7));
//! cluster.tick(100); // a connected majority elects a leader well within 100 ticks
//! let leader = (1..=3).find(|&id| cluster.status(id).role == Role::Leader).unwrap();
//! let (index, _term) = cluster.submit(leader, "set x 1").unwrap();
//! cluster.tick(10);
//! assert_eq!(cluster.applied_count(index), (3, Some("set x 1".to_string())));
//!
//! // Every control is an Action, printed as the script line that reads back as it.
//! let crash = Action::Crash(leader);
//! assert_eq!(crash.to_string(), format!("crash {leader}"));
//! assert_eq!(cluster.apply(&crash), Ok(Outcome::Crashed(leader)));
//! assert!(cluster.violations().is_empty());
//! ```

pub mod chaos;
pub mod cli;
pub mod cluster;
pub mod digest;
pub mod kv;
pub mod raft;
pub mod search;

pub use cluster::router::Stats;
pub use cluster::{
    Action, Cluster, ClusterError, Config, Invariant, NodeStatus, Outcome, Setting, Violation,
};
pub use raft::{BrokenRules, NodeId, Role, Rule, rules};
