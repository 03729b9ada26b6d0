//! Time travel: `undo [N]`, `rewind TICKS`, `goto TICK` and `save FILE`.
//!
//! Going back is replay: the session's cluster keeps a [`Record`](crate::cluster::Record) of every action it
//! applied (the clock's ticks too), each command's first entry named by the command
//! as typed. `undo` cuts the record where the N-th last command began (taking the
//! clock's ticks after it along); `rewind` and `goto` cut it at a tick (a `tick N`
//! crossing it is cut short). The cluster is then rebuilt from the last checkpoint
//! before the cut, and the future after the cut is gone: there is no redo. `save`
//! writes the record as a script that `raft-playground run` replays to the same
//! history digest.

use std::fmt::Write as _;

use super::error::ExecError;
use super::expect::roles_summary;
use super::news::Reported;
use super::record_file::{end_lines, lock_file};
use super::session::{Output, Session, plural};
use crate::cluster::realtime::lock;
use crate::cluster::{Cluster, Moment};

/// How many undone commands an answer names.
const NAMES_SHOWN: usize = 5;

/// The error of a session whose cluster keeps no record.
fn no_record() -> ExecError {
    ExecError::Invalid(
        "this session keeps no record of its actions, so it cannot go back or save them"
            .to_string(),
    )
}

impl Session {
    /// `undo N`: takes back the last `count` commands that changed the cluster.
    pub(super) fn undo(&mut self, count: usize) -> Result<Output, ExecError> {
        let mut cluster = lock(&self.cluster);
        let record = cluster.record().ok_or_else(no_record)?;
        let commands: Vec<(usize, &str)> = record.commands().collect();
        if commands.is_empty() {
            return Err(ExecError::Invalid(
                "nothing to undo: no command has changed this cluster (undo goes back as far as its `cluster` line)"
                    .to_string(),
            ));
        }
        if count > commands.len() {
            let total = commands.len();
            return Err(ExecError::Invalid(format!(
                "only {total} command{} changed this cluster, so `undo {total}` is the most that can be taken back",
                plural(total)
            )));
        }
        let undone = &commands[commands.len() - count..];
        let names: Vec<String> = undone
            .iter()
            .map(|(_, command)| command.to_string())
            .collect();
        let moment = Moment::after(undone[0].0);
        let rebuilt = record.replay_to(moment);
        self.replace(&mut cluster, rebuilt);
        Ok(Output::text(format!(
            "undid {count} command{}: {}\n{}",
            plural(count),
            name_list(&names),
            where_now(&cluster)
        )))
    }

    /// `rewind TICKS`: goes back `ticks` ticks.
    pub(super) fn rewind(&mut self, ticks: u64) -> Result<Output, ExecError> {
        let now = lock(&self.cluster).now();
        if ticks > now {
            return Err(ExecError::Invalid(format!(
                "only {now} tick{} to rewind: the session is at tick {now} (`goto 0` goes back to its start)",
                plural(now)
            )));
        }
        self.go_back_to(now - ticks)
    }

    /// `goto TICK`: goes back to tick `tick`.
    pub(super) fn goto(&mut self, tick: u64) -> Result<Output, ExecError> {
        let now = lock(&self.cluster).now();
        if tick > now {
            return Err(ExecError::Invalid(format!(
                "tick {tick} has not happened: the session is at tick {now}, and goto only goes back (there is no redo)"
            )));
        }
        self.go_back_to(tick)
    }

    /// Rebuilds the cluster as it was at `tick` (after everything done at that tick).
    fn go_back_to(&mut self, tick: u64) -> Result<Output, ExecError> {
        let mut cluster = lock(&self.cluster);
        let record = cluster.record().ok_or_else(no_record)?;
        let moment = record.moment_at(tick);
        if moment.entries == record.entries().len() {
            return Ok(Output::text(format!(
                "already at tick {tick}\n{}",
                where_now(&cluster)
            )));
        }
        // A command the moment falls inside of is cut short; those after it go.
        let cut_short = record.entries()[moment.entries]
            .command
            .clone()
            .filter(|_| moment.ticks > 0);
        let taken_back: Vec<String> = record
            .commands()
            .filter(|(position, _)| {
                *position > moment.entries || (*position == moment.entries && moment.ticks == 0)
            })
            .map(|(_, command)| command.to_string())
            .collect();
        let rebuilt = record.replay_to(moment);
        self.replace(&mut cluster, rebuilt);
        let mut text = format!("back to tick {tick}");
        if let Some(command) = cut_short {
            let _ = write!(text, ", cutting `{command}` short");
        }
        if !taken_back.is_empty() {
            let _ = write!(
                text,
                ", taking back {} command{}: {}",
                taken_back.len(),
                plural(taken_back.len()),
                name_list(&taken_back)
            );
        }
        let _ = write!(text, "\n{}", where_now(&cluster));
        Ok(Output::text(text))
    }

    /// Puts a rebuilt cluster in place of the current one: news starts from its
    /// present, and the `--record` file is written again.
    fn replace(&self, cluster: &mut Cluster, rebuilt: Cluster) {
        *cluster = rebuilt;
        *self.reported() = Reported {
            events: cluster.event_count(),
            violations: cluster.violations().len(),
        };
        if let (Some(file), Some(record)) = (&self.record_file, cluster.record()) {
            lock_file(file).rewrite(record);
        }
    }

    /// `save FILE`: writes the session as a script.
    pub(super) fn save(&mut self, file: &str) -> Result<Output, ExecError> {
        let cluster = lock(&self.cluster);
        let record = cluster.record().ok_or_else(no_record)?;
        let script = format!("{}{}", record.to_script(), end_lines(&cluster));
        std::fs::write(file, script)
            .map_err(|error| ExecError::Invalid(format!("cannot write {file}: {error}")))?;
        let commands = record.commands().count();
        Ok(Output::text(format!(
            "saved {commands} command{} through tick {} to {file}: `raft-playground run {file}` replays it to the same history",
            plural(commands),
            cluster.now()
        )))
    }
}

/// Where the session is now: the tick, the leader, and each node in short.
pub fn where_now(cluster: &Cluster) -> String {
    let leader = match cluster.leader() {
        Some(leader) => format!("n{leader} leads term {}", cluster.status(leader).term),
        None => "no leader".to_string(),
    };
    format!(
        "now at tick {}: {leader}; {}",
        cluster.now(),
        roles_summary(cluster)
    )
}

/// Up to [`NAMES_SHOWN`] commands in backquotes, the rest counted.
fn name_list(names: &[String]) -> String {
    let mut shown: Vec<String> = names
        .iter()
        .take(NAMES_SHOWN)
        .map(|name| format!("`{name}`"))
        .collect();
    if names.len() > NAMES_SHOWN {
        shown.push(format!("and {} more", names.len() - NAMES_SHOWN));
    }
    shown.join(", ")
}
