//! The end of a chaos run: heal everything, restart every crashed node, commit one
//! more command, and check that every command a client saw committed is applied,
//! with the same text, on every node.

use super::{CONVERGE_TICKS, Chaos, Submitted};
use crate::cluster::{Action, Outcome};
use crate::raft::{NodeId, Role};

impl Chaos<'_> {
    /// Moves accepted commands whose index was applied to `committed` (if applied with
    /// their text) or forgets them (if another command took the index).
    pub(super) fn settle(&mut self) {
        let cluster = &*self.cluster;
        let committed = &mut self.committed;
        self.pending
            .retain(|entry| match cluster.applied_count(entry.index).1 {
                Some(applied) if applied == entry.command => {
                    committed.insert(entry.index, entry.command.clone());
                    false
                }
                Some(_) => false,
                None => true,
            });
    }

    /// Heals everything, restarts every crashed node, and waits until a leader
    /// commits one more command and every node has applied everything.
    pub(super) fn converge(&mut self) {
        self.journal.converge_from = Some(self.journal.steps.len());
        for action in [
            Action::Heal,
            Action::DropRate(0.0),
            Action::Latency { min: 1, max: 1 },
            Action::DuplicateRate(0.0),
            Action::Unreliable(false),
            Action::LongReordering(false),
        ] {
            self.act_surely(action);
        }
        self.clear_hard_faults();
        for node in self.down_nodes() {
            self.act_surely(Action::Restart(node));
        }
        // The last command, resubmitted to whoever leads if its leader loses its term.
        let mut last: Option<(NodeId, u64, Submitted)> = None;
        for _ in 0..=CONVERGE_TICKS {
            self.settle();
            if let Some((leader, term, entry)) = &last {
                let status = self.cluster.status(*leader);
                let (count, command) = self.applied_count(entry.index);
                let ours = command.as_deref() == Some(entry.command.as_str());
                let required = self.required();
                let caught_up = required.iter().all(|&id| {
                    let other = self.cluster.status(id);
                    other.last_applied == status.commit_index
                        && other.commit_index == status.commit_index
                });
                // Counted afresh: a membership change may still commit meanwhile.
                if ours && count == required.len() && caught_up {
                    return;
                }
                // A new leader commits entries of older terms only together with one
                // of its own (§5.4.2), so a change of leader calls for a new command.
                let deposed = status.role != Role::Leader || status.term != *term;
                if deposed || (command.is_some() && !ours) {
                    last = None;
                }
            }
            if last.is_none()
                && let Some(leader) = self.cluster.leader()
            {
                let command = format!("set final {}.{}", self.seed, self.submitted);
                let action = Action::Submit {
                    node: leader,
                    command: command.clone(),
                };
                if let Ok(Outcome::Submitted { index, term, .. }) = self.act(action) {
                    self.submitted += 1;
                    let entry = Submitted { index, command };
                    self.pending.push(entry.clone());
                    last = Some((leader, term, entry));
                }
            }
            self.act_surely(Action::Tick(1));
        }
        let states: Vec<String> = self
            .members()
            .into_iter()
            .map(|id| {
                let status = self.cluster.status(id);
                format!(
                    "n{id} {:?} term {} commit {} applied {} last {}",
                    status.role,
                    status.term,
                    status.commit_index,
                    status.last_applied,
                    status.last_log_index
                )
            })
            .collect();
        self.problem(format!(
            "no convergence within {CONVERGE_TICKS} ticks of healing: {}",
            states.join("; ")
        ));
    }

    /// Every command seen committed must now be applied on every node, with its text.
    pub(super) fn check_committed(&mut self) {
        let nodes = self.required().len();
        let missing: Vec<String> = self
            .committed
            .iter()
            .filter_map(|(&index, command)| {
                let seen = self.applied_count(index);
                (seen != (nodes, Some(command.clone())))
                    .then(|| format!("index {index} {command:?}: {seen:?}"))
            })
            .collect();
        for text in missing {
            self.problem(format!(
                "a committed command is not applied on all {nodes} nodes: {text}"
            ));
        }
    }
}
