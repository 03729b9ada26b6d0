//! Checkpoints: a copy of a whole cluster taken between two actions, from which a
//! cluster is restored that continues exactly as the original would have.
//!
//! Going back in time is replay (`record.rs`); a checkpoint only saves replaying the
//! ticks before it. It holds everything a run's future depends on: each node's core
//! (its random generator and any proposals waiting for the next round included), state
//! machine, clock and storage; the router with its random generator, faults, links and
//! messages in flight; the checker; the trace; how many lives each node had (which
//! seeds its next one); and the settings changed since the start. Node threads are not
//! copied: a restored cluster starts new ones from the copied state.

use std::sync::Arc;

use crossbeam_channel::Receiver;

use super::engine::{Engine, Shared, ToCluster};
use super::node::{self, NodeState};
use super::protocol::{Answer, Request};
use super::{Cluster, Config};

/// A copy of a cluster between two actions (see the module documentation). Restoring
/// it with [`Cluster::restore`] gives a cluster that behaves exactly as the original
/// did from that moment on.
#[derive(Debug)]
pub struct Checkpoint {
    /// The configuration as it was then (with the settings changed so far).
    config: Config,
    /// The router, checker, trace and each node's slot, with copies of the storages.
    engine: Engine,
    /// Each node's thread state, by id - 1; `None` for a node that was down.
    nodes: Vec<Option<NodeState>>,
    /// How many times each node was started.
    lives: Vec<u64>,
    /// The auto-snapshot setting.
    auto_snapshot: Option<u64>,
}

impl Checkpoint {
    /// The tick it was taken at.
    pub fn tick(&self) -> u64 {
        self.engine.now
    }
}

impl Cluster {
    /// Copies the whole cluster as it is now (see [`Checkpoint`]). Nothing changes:
    /// each up node hands over a copy of its state between two actions.
    pub fn checkpoint(&mut self) -> Checkpoint {
        // Every slot, the nodes added since the start included.
        let mut nodes = Vec::with_capacity(self.size());
        for node in 1..=self.size() {
            nodes.push(if self.slot(node).up {
                match self.request(node, Request::Capture) {
                    Ok(Answer::Captured(state)) => Some(*state),
                    // Copying a state does not panic; if the thread did, the node is
                    // down now (the checker reported it), and the copy has it down.
                    Err(_) => None,
                    Ok(other) => {
                        unreachable!("a capture is answered with Captured, not {other:?}")
                    }
                }
            } else {
                None
            });
        }
        Checkpoint {
            config: self.config.clone(),
            engine: self.engine().duplicate(),
            nodes,
            lives: self.lives.clone(),
            auto_snapshot: self.auto_snapshot,
        }
    }

    /// A cluster at the moment `checkpoint` was taken, with new node threads: it does
    /// exactly what the original did from then on, given the same actions. It keeps
    /// no record (a [`super::Record`] restores its checkpoints itself, with the
    /// record up to them).
    pub fn restore(checkpoint: &Checkpoint) -> Cluster {
        let (to_cluster, from_nodes): (_, Receiver<ToCluster>) = crossbeam_channel::unbounded();
        let engine = checkpoint.engine.duplicate();
        // Sized by the slots: nodes added since the cluster started have slots too.
        let shared = Arc::new(Shared::new(engine.slots.len(), to_cluster));
        let threads = checkpoint
            .nodes
            .iter()
            .zip(&engine.slots)
            .map(|(state, slot)| {
                state.as_ref().map(|state| {
                    // The thread writes to the restored slot's storage, as the
                    // original thread wrote to the original's.
                    node::spawn_restored(state.clone(), slot.storage.clone(), shared.clone())
                })
            })
            .collect();
        Cluster {
            config: Config {
                record: false,
                ..checkpoint.config.clone()
            },
            engine: Some(Box::new(engine)),
            shared,
            from_nodes,
            threads,
            lives: checkpoint.lives.clone(),
            auto_snapshot: checkpoint.auto_snapshot,
            record: None,
            stuck: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::Action;

    /// Everything observable about a cluster, to compare two of them.
    fn observed(cluster: &mut Cluster) -> String {
        let statuses: Vec<_> = (1..=cluster.size()).map(|id| cluster.status(id)).collect();
        let logs: Vec<_> = (1..=cluster.size())
            .map(|id| cluster.persisted_log(id).map(|log| format!("{log:?}")))
            .collect();
        format!(
            "{} {:016x} {:?} {:?} {:?} {:?} {:?}",
            cluster.now(),
            cluster.history_digest(),
            statuses,
            logs,
            cluster.in_flight(),
            cluster.stats(),
            cluster.violations(),
        )
    }

    /// The same actions after a checkpoint, on the original and on the restored copy.
    fn continue_with(cluster: &mut Cluster) {
        // Any request before the next round reports whether proposals still wait:
        // the restored thread must know they do.
        if let Some(leader) = cluster.leader() {
            cluster.inspect(leader).unwrap();
        }
        cluster.tick(1);
        cluster.tick(6);
        if let Some(leader) = cluster.leader() {
            cluster.submit(leader, "set x 2").unwrap();
        }
        let restarted = (cluster.leader().unwrap_or(1) % cluster.size()) + 1;
        cluster.apply(&Action::Restart(restarted)).unwrap();
        cluster.tick(40);
        cluster.apply(&Action::Heal).unwrap();
        cluster.tick(60);
    }

    #[test]
    fn a_restored_cluster_continues_as_the_original() {
        let mut cluster = Cluster::new(Config::new(5).seed(11));
        cluster.apply(&Action::DropRate(0.2)).unwrap();
        cluster.apply(&Action::Latency { min: 1, max: 3 }).unwrap();
        cluster.tick(40);
        let leader = cluster.leader().expect("a leader by tick 40");
        cluster.submit(leader, "set x 1").unwrap();
        // Proposals wait in the core for the next round: the copy must carry them.
        cluster.apply(&Action::Crash(leader % 5 + 1)).unwrap();
        cluster
            .apply(&Action::Partition(vec![vec![1, 2], vec![3, 4, 5]]))
            .unwrap();
        let checkpoint = cluster.checkpoint();
        assert_eq!(checkpoint.tick(), cluster.now());
        let mut restored = Cluster::restore(&checkpoint);
        assert_eq!(observed(&mut restored), observed(&mut cluster));
        continue_with(&mut cluster);
        continue_with(&mut restored);
        assert_eq!(observed(&mut restored), observed(&mut cluster));
        // A second restore from the same checkpoint is the same again: restoring
        // copies the checkpoint instead of using it up.
        let mut again = Cluster::restore(&checkpoint);
        continue_with(&mut again);
        assert_eq!(observed(&mut again), observed(&mut cluster));
    }

    #[test]
    fn a_restored_storage_is_its_own() {
        let mut cluster = Cluster::new(Config::new(3).seed(2));
        cluster.tick(30);
        let checkpoint = cluster.checkpoint();
        let before = format!("{:?}", cluster.persisted_log(1).unwrap());
        let mut restored = Cluster::restore(&checkpoint);
        let leader = restored.leader().expect("a leader by tick 30");
        restored.submit(leader, "set y 1").unwrap();
        restored.tick(10);
        assert_eq!(format!("{:?}", cluster.persisted_log(1).unwrap()), before);
        assert_ne!(format!("{:?}", restored.persisted_log(1).unwrap()), before);
    }
}
