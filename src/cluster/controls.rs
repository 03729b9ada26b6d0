//! The lab's named controls (`tick`, `submit`, `crash`, `set_rule_broken`, ...): thin
//! wrappers over [`Cluster::apply`], for tests and library users who prefer a method
//! to an [`Action`] value.

use super::{Action, Cluster, ClusterError, Outcome, action};
use crate::raft::{Command, NodeId, Proposal, Rule};

impl Cluster {
    /// Advances virtual time by `ticks` (any number, 0 included), returning once all
    /// work due is done.
    pub fn tick(&mut self, ticks: u64) {
        let mut left = ticks;
        while left > 0 {
            let step = left.min(action::MAX_TICKS);
            self.apply(&Action::Tick(step))
                .expect("a tick of 1 to MAX_TICKS is always valid");
            left -= step;
        }
    }

    /// Advances one tick at a time until `done` holds or `ticks` have passed; returns
    /// whether it held. `done` is checked before the first tick too.
    pub fn tick_until(&mut self, ticks: u64, mut done: impl FnMut(&Cluster) -> bool) -> bool {
        for _ in 0..ticks {
            if done(self) {
                return true;
            }
            self.tick(1);
        }
        done(self)
    }

    /// Submits a command to `node`. `Ok((index, term))` if it is an up leader (the
    /// command is then replicated with the next tick); otherwise why not.
    pub fn submit(&mut self, node: NodeId, command: &str) -> Result<(u64, u64), ClusterError> {
        let action = Action::Submit {
            node,
            command: command.to_string(),
        };
        match self.apply(&action)? {
            Outcome::Submitted { index, term, .. } => Ok((index, term)),
            other => unreachable!("a submit ends in Submitted, not {other:?}"),
        }
    }

    /// Submits several commands to `node` at once, in one request to its thread (as
    /// fast as a leader can take them): the same as one [`Action::Submit`] per
    /// command, in order, but without a round trip to the node thread for each.
    /// The [`Proposal`] gives the first command's index; the others follow it in order,
    /// in the same term.
    pub fn submit_batch(
        &mut self,
        node: NodeId,
        commands: &[&str],
    ) -> Result<Proposal, ClusterError> {
        let Some(first) = commands.first() else {
            return Err(ClusterError::NothingToSubmit);
        };
        self.check(&Action::Submit {
            node,
            command: first.to_string(),
        })?;
        for command in commands {
            action::check_command_text(command)?;
        }
        // The record keeps one submit per command: the same run, as a script says it.
        for command in commands {
            self.record_action(&Action::Submit {
                node,
                command: command.to_string(),
            });
        }
        let commands = commands
            .iter()
            .map(|command| Command::from(*command))
            .collect();
        self.propose(node, commands)
    }

    /// Crashes `node`: its thread stops, everything it did not persist is lost, and so
    /// are messages in flight to or from it. Its links are left as they are. Crashing
    /// a down node changes nothing.
    pub fn crash(&mut self, node: NodeId) -> Result<(), ClusterError> {
        self.apply(&Action::Crash(node)).map(drop)
    }

    /// Restarts `node` from what it persisted (crashing it first if it is up, like the
    /// lab's `start1`). It keeps whatever links it had.
    pub fn restart(&mut self, node: NodeId) -> Result<(), ClusterError> {
        self.apply(&Action::Restart(node)).map(drop)
    }

    /// Cuts `node` from every other node.
    pub fn disconnect(&mut self, node: NodeId) -> Result<(), ClusterError> {
        self.apply(&Action::Disconnect(node)).map(drop)
    }

    /// Restores `node`'s links to every connected node.
    pub fn connect(&mut self, node: NodeId) -> Result<(), ClusterError> {
        self.apply(&Action::Connect(node)).map(drop)
    }

    /// The lab's unreliable network: about 10% of messages lost, 0–1 ticks of extra delay.
    pub fn set_unreliable(&mut self, on: bool) {
        self.apply(&Action::Unreliable(on))
            .expect("a network switch is always valid");
    }

    /// The lab's long reordering: about 2/3 of replies delayed by 4–44 ticks.
    pub fn set_long_reordering(&mut self, on: bool) {
        self.apply(&Action::LongReordering(on))
            .expect("a network switch is always valid");
    }

    /// Makes `node` snapshot its state machine now, at its last applied index.
    pub fn snapshot(&mut self, node: NodeId) -> Result<(), ClusterError> {
        self.apply(&Action::Snapshot(node)).map(drop)
    }

    /// Breaks (true) or restores (false) one rule of the paper on every node, from
    /// its next step on (nodes that restart later too); see [`crate::rules()`] for the
    /// names. An unknown name is an error that lists the known ones.
    pub fn set_rule_broken(&mut self, rule: &str, broken: bool) -> Result<(), ClusterError> {
        let rule = Rule::from_name(rule).map_err(ClusterError::UnknownRule)?;
        let action = if broken {
            Action::Break(rule)
        } else {
            Action::Mend(rule)
        };
        self.apply(&action).map(drop)
    }

    /// Makes every node snapshot at each multiple of `every` applied entries (the lab
    /// uses 10), or never with `None` (or `Some(0)`).
    pub fn set_auto_snapshot(&mut self, every: Option<u64>) {
        let every = every.filter(|&every| every > 0);
        self.apply(&Action::AutoSnapshot(every))
            .expect("an auto-snapshot interval of at least 1 is valid");
    }
}
