//! The record of a run: how a cluster was built and every action applied to it, in
//! order. A run is a pure function of its seed and its actions, so the record *is*
//! the run: replaying it rebuilds any earlier moment exactly. The playground's `undo`,
//! `rewind`, `goto` and `save` are made of it.
//!
//! - A cluster built with [`Config::record`] keeps its record ([`Cluster::record`]).
//!   [`Cluster::apply`] appends every action that passed its check: one the check
//!   refused changed nothing and is left out; one that reached a node stays even if
//!   the node then declined it, because a replay repeats that too. Consecutive ticks
//!   merge into one `tick N` entry, so a free-running clock's thousand single ticks
//!   are one line.
//! - A session marks where each of its commands begins ([`Cluster::begin_command`],
//!   [`Cluster::end_command`]): the command's first entry carries the line as typed,
//!   and its entries never merge with the clock's. `undo` cuts the record there.
//! - A position in the record is a [`Moment`]; [`Record::moment_at`] finds the moment
//!   of a tick and [`Record::replay_to`] builds the cluster as it was then, with the
//!   record cut there (the future after it is gone: there is no redo).
//! - Checkpoints (`checkpoint.rs`) are only a speed-up: every
//!   [`Config::checkpoint_every`] ticks the record keeps a copy of the whole cluster,
//!   and a replay starts from the last one before its target instead of from tick 0.
//!   Both ways give the same cluster (tested over random sessions in
//!   `tests/timetravel.rs`). A long session keeps at most [`MAX_CHECKPOINTS`] (each
//!   holds a copy of the trace's recent events, the bulk of its memory): the newest
//!   [`RECENT_CHECKPOINTS`] stay, so `undo` is always quick, and the older ones are
//!   thinned to an even grid whose spacing doubles as the session grows, so a `goto`
//!   far back replays at most one grid step.
//!
//! For tools (an export of a whole session, say): [`Record::entries`] lists what was
//! applied, at which tick and by which command; [`Record::replay_with_trace`] rebuilds
//! the run from tick 0 keeping as much of its trace as asked; [`Record::to_script`]
//! writes it in the playground's grammar, which `raft-playground run` replays to the
//! same history digest.

use std::fmt::Write as _;
use std::sync::Arc;

use super::action::MAX_TICKS;
use super::{Action, Checkpoint, Cluster, Config, Setting};
use crate::raft::RaftConfig;

/// The most checkpoints a record keeps (see the module documentation). With the
/// default spacing, a session of 100,000 ticks keeps its checkpoints in about 40 MB.
pub const MAX_CHECKPOINTS: usize = 40;

/// How many of the newest checkpoints are never thinned out.
pub const RECENT_CHECKPOINTS: usize = 8;

/// One entry of a record: an action and when it was applied.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The tick at which it was applied (a `tick N` runs from here to `tick + N`).
    pub tick: u64,
    /// The action, as [`Cluster::apply`] took it.
    pub action: Action,
    /// On the first entry of a session's command: the command as typed (`crash
    /// leader` for the entry `crash 3`). `None` on the command's other entries and on
    /// ticks of a free-running clock, which belong to the command before them.
    pub command: Option<String>,
}

impl Entry {
    /// The ticks this entry advances time by (0 unless it is a `tick N`).
    pub fn ticks(&self) -> u64 {
        match self.action {
            Action::Tick(ticks) => ticks,
            _ => 0,
        }
    }

    /// The entry as script lines: the command as typed, as a `#` comment, when it
    /// differs from the action (`# crash leader` above `crash 3`), then the action.
    pub fn script_lines(&self) -> String {
        let action = self.action.to_string();
        match &self.command {
            Some(command) if *command != action => format!("# {command}\n{action}\n"),
            _ => format!("{action}\n"),
        }
    }
}

/// A position in a record: after its first `entries` entries, and `ticks` ticks into
/// the next one (a `tick N` cut part way; 0 otherwise). Moments order as positions
/// do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Moment {
    /// How many entries are fully applied.
    pub entries: usize,
    /// How many ticks of the next entry, which is then a `tick N` with N > ticks.
    pub ticks: u64,
}

impl Moment {
    /// Right after the first `entries` entries.
    pub fn after(entries: usize) -> Moment {
        Moment { entries, ticks: 0 }
    }
}

/// See the module documentation.
#[derive(Clone, Debug)]
pub struct Record {
    /// How the cluster was built.
    config: Config,
    /// Every action applied, in order.
    entries: Vec<Entry>,
    /// True while the last entry may grow: the next tick merges into it if both are
    /// ticks. False after a command's boundary.
    open: bool,
    /// Checkpoints by the moment they were taken, oldest first. Shared: a record cut
    /// short by `undo` keeps those before the cut without copying them.
    checkpoints: Vec<(Moment, Arc<Checkpoint>)>,
    /// Older checkpoints are kept only at multiples of this many checkpoint
    /// intervals (a power of two that doubles whenever they are too many).
    grid: u64,
}

impl Record {
    /// An empty record of a cluster built with `config`.
    pub fn new(config: Config) -> Record {
        Record {
            config,
            entries: Vec::new(),
            open: false,
            checkpoints: Vec::new(),
            grid: 1,
        }
    }

    /// How the cluster was built: its size, seed and starting core configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Every action applied, in order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The tick at the end of the record.
    pub fn end_tick(&self) -> u64 {
        self.entries
            .last()
            .map_or(0, |entry| entry.tick + entry.ticks())
    }

    /// The positions of the entries that begin a command, with the command as typed,
    /// oldest first.
    pub fn commands(&self) -> impl DoubleEndedIterator<Item = (usize, &str)> {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(position, entry)| Some((position, entry.command.as_deref()?)))
    }

    /// How many checkpoints the record keeps now.
    pub fn checkpoint_count(&self) -> usize {
        self.checkpoints.len()
    }

    /// The moment of `tick`: after everything done at that tick and before time moved
    /// on from it (a `tick N` that crosses it is cut there). A tick at or past the end
    /// is the end.
    pub fn moment_at(&self, tick: u64) -> Moment {
        for (position, entry) in self.entries.iter().enumerate() {
            let ticks = entry.ticks();
            if ticks > 0 && entry.tick + ticks > tick {
                return Moment {
                    entries: position,
                    ticks: tick.saturating_sub(entry.tick),
                };
            }
        }
        Moment::after(self.entries.len())
    }

    /// The tick at `moment`.
    pub fn tick_at(&self, moment: Moment) -> u64 {
        match self.entries.get(moment.entries) {
            Some(entry) => entry.tick + moment.ticks,
            None => self.end_tick(),
        }
    }

    /// The cluster as it was at `moment`, keeping this record up to that moment (see
    /// [`Record::cut`]). It is restored from the last checkpoint at or before
    /// `moment` and the entries after it are replayed, or all are replayed from
    /// tick 0 if there is no such checkpoint.
    ///
    /// # Panics
    ///
    /// If `moment` lies past the end of the record, or if the replay diverges from
    /// the record (an action the original run took is refused now): both are bugs.
    pub fn replay_to(&self, moment: Moment) -> Cluster {
        self.check_moment(moment);
        let start = self
            .checkpoints
            .iter()
            .rev()
            .find(|(taken, _)| *taken <= moment);
        let (mut cluster, from) = match start {
            Some((taken, checkpoint)) => (Cluster::restore(checkpoint), *taken),
            None => (
                self.fresh_cluster(self.config.trace_capacity),
                Moment::after(0),
            ),
        };
        self.replay_between(&mut cluster, from, moment);
        cluster.record = Some(self.cut(moment));
        cluster
    }

    /// The cluster at the end of the record, rebuilt the quickest way (see
    /// [`Record::replay_to`]).
    pub fn replay(&self) -> Cluster {
        self.replay_to(Moment::after(self.entries.len()))
    }

    /// The whole run again from tick 0, without checkpoints, keeping the last
    /// `trace_capacity` trace events (an export of a whole session asks for all of
    /// them). `observe` sees the cluster after each entry. The cluster keeps no
    /// record.
    pub fn replay_with_trace(
        &self,
        trace_capacity: usize,
        mut observe: impl FnMut(&Cluster, &Entry),
    ) -> Cluster {
        let mut cluster = self.fresh_cluster(trace_capacity);
        for entry in &self.entries {
            cluster.replay_action(&entry.action);
            observe(&cluster, entry);
        }
        cluster
    }

    /// This record up to `moment`: the entries before it, a `tick N` cut part way
    /// becoming the ticks before it, and the checkpoints taken up to it.
    pub fn cut(&self, moment: Moment) -> Record {
        self.check_moment(moment);
        let mut entries = self.entries[..moment.entries].to_vec();
        if moment.ticks > 0 {
            let mut entry = self.entries[moment.entries].clone();
            entry.action = Action::Tick(moment.ticks);
            // A command cut short is shown as what remains of it.
            if entry.command.is_some() {
                entry.command = Some(entry.action.to_string());
            }
            entries.push(entry);
        }
        Record {
            config: self.config.clone(),
            entries,
            open: false,
            checkpoints: self
                .checkpoints
                .iter()
                .filter(|(taken, _)| *taken <= moment)
                .cloned()
                .collect(),
            grid: self.grid,
        }
    }

    /// The beginning of a script that rebuilds the cluster: a comment, the `cluster`
    /// line with its seed, and a `set` line per setting that differs from the default.
    pub fn script_header(&self) -> String {
        let config = &self.config;
        let mut text = String::new();
        let _ = writeln!(
            text,
            "# raft-playground session: `raft-playground run FILE` replays it"
        );
        let settings = Setting::differences(&config.raft);
        let mut rebuilt = RaftConfig::default();
        for setting in &settings {
            setting.apply_to(&mut rebuilt);
        }
        if rebuilt != config.raft {
            let _ = writeln!(
                text,
                "# note: this cluster's core configuration differs from the default in ways no `set` line says; a replay may differ"
            );
        }
        let _ = write!(text, "cluster {} seed {}", config.nodes, config.seed);
        if config.initial_log > 0 {
            let _ = write!(text, " log {}", config.initial_log);
        }
        text.push('\n');
        for setting in settings {
            let _ = writeln!(text, "set {setting}");
        }
        text
    }

    /// The record as a script in the playground's grammar: [`Record::script_header`],
    /// then every entry ([`Entry::script_lines`]). `raft-playground run` replays it
    /// to the same history digest.
    pub fn to_script(&self) -> String {
        let mut text = self.script_header();
        for entry in &self.entries {
            text.push_str(&entry.script_lines());
        }
        text
    }

    // ----- kept up by the cluster -----

    /// Appends an action applied at `tick`, merging a tick into a tick before it.
    pub(super) fn push(&mut self, tick: u64, action: &Action) {
        if let Action::Tick(more) = action
            && self.open
            && let Some(last) = self.entries.last_mut()
            && let Action::Tick(ticks) = &mut last.action
            && *ticks + more <= MAX_TICKS
        {
            debug_assert_eq!(last.tick + *ticks, tick, "ticks merge only end to end");
            *ticks += more;
            return;
        }
        self.entries.push(Entry {
            tick,
            action: action.clone(),
            command: None,
        });
        self.open = true;
    }

    /// The next action starts an entry of its own.
    pub(super) fn seal(&mut self) {
        self.open = false;
    }

    /// The moment at the end, as a checkpoint taken now is placed: inside a last
    /// `tick N` (which may still grow) rather than after it.
    fn end_moment(&self) -> Moment {
        match self.entries.last() {
            Some(last) if last.ticks() > 0 => Moment {
                entries: self.entries.len() - 1,
                ticks: last.ticks(),
            },
            _ => Moment::after(self.entries.len()),
        }
    }

    /// True if a checkpoint is due at `now`.
    fn checkpoint_due(&self, now: u64) -> bool {
        let every = self.config.checkpoint_every;
        let last = self
            .checkpoints
            .last()
            .map_or(0, |(_, checkpoint)| checkpoint.tick());
        every > 0 && now >= last + every
    }

    /// Keeps a checkpoint taken at the end of the record, thinning out old ones: the
    /// newest [`RECENT_CHECKPOINTS`] stay, and the others only on the grid, whose
    /// spacing doubles until they fit in [`MAX_CHECKPOINTS`].
    fn add_checkpoint(&mut self, checkpoint: Checkpoint) {
        self.checkpoints
            .push((self.end_moment(), Arc::new(checkpoint)));
        let every = self.config.checkpoint_every.max(1);
        while self.checkpoints.len() > MAX_CHECKPOINTS {
            // First onto the grid as it is (the checkpoints that just left the recent
            // ones are off it); only if that is not enough, a grid twice as coarse.
            let recent_from = self.checkpoints.len() - RECENT_CHECKPOINTS;
            let grid = self.grid;
            let mut position = 0;
            self.checkpoints.retain(|(_, checkpoint)| {
                position += 1;
                position > recent_from || (checkpoint.tick() / every).is_multiple_of(grid)
            });
            if self.checkpoints.len() > MAX_CHECKPOINTS {
                self.grid *= 2;
            }
        }
    }

    fn check_moment(&self, moment: Moment) {
        let fits = match self.entries.get(moment.entries) {
            Some(entry) => moment.ticks == 0 || moment.ticks <= entry.ticks(),
            None => moment.entries == self.entries.len() && moment.ticks == 0,
        };
        assert!(
            fits,
            "{moment:?} lies outside a record of {} entries",
            self.entries.len()
        );
    }

    /// A new cluster as the record's began, keeping no record.
    fn fresh_cluster(&self, trace_capacity: usize) -> Cluster {
        Cluster::new(Config {
            record: false,
            trace_capacity,
            ..self.config.clone()
        })
    }

    /// Applies the entries between two moments to a cluster that is at `from`.
    fn replay_between(&self, cluster: &mut Cluster, from: Moment, to: Moment) {
        let mut at = from;
        while at < to {
            if at.entries == to.entries {
                cluster.replay_action(&Action::Tick(to.ticks - at.ticks));
                break;
            }
            let entry = &self.entries[at.entries];
            match entry.action {
                // The rest of a `tick N` that `from` is inside of.
                Action::Tick(ticks) if at.ticks > 0 => {
                    if ticks > at.ticks {
                        cluster.replay_action(&Action::Tick(ticks - at.ticks));
                    }
                }
                _ => cluster.replay_action(&entry.action),
            }
            at = Moment::after(at.entries + 1);
        }
    }
}

impl Cluster {
    /// The record of every action applied so far, if the cluster keeps one
    /// ([`Config::record`]).
    pub fn record(&self) -> Option<&Record> {
        self.record.as_ref()
    }

    /// Marks the start of a session's command: its first action starts an entry of
    /// its own. Returns the position to hand to [`Cluster::end_command`].
    pub fn begin_command(&mut self) -> usize {
        match &mut self.record {
            Some(record) => {
                record.seal();
                record.entries.len()
            }
            None => 0,
        }
    }

    /// Ends the command begun at `first`: if it applied any action, its first entry
    /// carries `text`, the command as typed (or, without it, the action itself), and
    /// whatever follows starts an entry of its own. Returns whether the command
    /// applied anything (false for a view, a refusal, or a cluster that keeps no
    /// record).
    pub fn end_command(&mut self, first: usize, text: Option<&str>) -> bool {
        let Some(record) = &mut self.record else {
            return false;
        };
        record.seal();
        match record.entries.get_mut(first) {
            Some(entry) => {
                let text = text.map_or_else(|| entry.action.to_string(), str::to_string);
                entry.command = Some(text);
                true
            }
            None => false,
        }
    }

    /// Appends an action that passed its check to the record, if there is one.
    pub(super) fn record_action(&mut self, action: &Action) {
        let now = self.now();
        if let Some(record) = &mut self.record {
            record.push(now, action);
        }
    }

    /// Takes a checkpoint if one is due (called between actions).
    pub(super) fn checkpoint_if_due(&mut self) {
        let now = self.now();
        if self
            .record
            .as_ref()
            .is_some_and(|record| record.checkpoint_due(now))
        {
            let checkpoint = self.checkpoint();
            if let Some(record) = &mut self.record {
                record.add_checkpoint(checkpoint);
            }
        }
    }

    /// Applies an action of a record being replayed.
    ///
    /// # Panics
    ///
    /// If the cluster refuses what the recorded run accepted: the replay diverged,
    /// which would mean a run is not a pure function of its seed and its actions.
    fn replay_action(&mut self, action: &Action) {
        if let Err(error) = self.check(action) {
            panic!("replay diverged: `{action}` was accepted when recorded but now: {error}");
        }
        // A refusal after the check (a node declining a snapshot) happened when the
        // action was recorded too.
        let _ = self.apply(action);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(nodes: usize, seed: u64, checkpoint_every: u64) -> Cluster {
        Cluster::new(Config {
            checkpoint_every,
            ..Config::new(nodes).seed(seed).recorded()
        })
    }

    #[test]
    fn ticks_merge_but_not_across_a_command() {
        let mut cluster = recorded(3, 1, 0);
        cluster.tick(3);
        cluster.tick(2);
        let first = cluster.begin_command();
        cluster.apply(&Action::Tick(4)).unwrap();
        assert!(cluster.end_command(first, Some("tick 4")));
        cluster.tick(1);
        cluster.tick(1);
        let record = cluster.record().unwrap();
        let shown: Vec<(u64, String, Option<&str>)> = record
            .entries()
            .iter()
            .map(|entry| {
                (
                    entry.tick,
                    entry.action.to_string(),
                    entry.command.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            vec![
                (0, "tick 5".to_string(), None),
                (5, "tick 4".to_string(), Some("tick 4")),
                (9, "tick 2".to_string(), None),
            ]
        );
        assert_eq!(record.end_tick(), 11);
        // A command that applied nothing (a view) leaves no mark.
        let first = cluster.begin_command();
        assert!(!cluster.end_command(first, Some("status")));
        assert_eq!(cluster.record().unwrap().commands().count(), 1);
    }

    #[test]
    fn refused_actions_are_not_recorded() {
        let mut cluster = recorded(3, 1, 0);
        assert!(cluster.apply(&Action::Crash(9)).is_err());
        assert!(cluster.apply(&Action::Tick(0)).is_err());
        assert!(cluster.record().unwrap().entries().is_empty());
        let unrecorded = Cluster::new(Config::new(3));
        assert!(unrecorded.record().is_none());
    }

    #[test]
    fn moments_of_ticks() {
        let mut cluster = recorded(3, 1, 0);
        cluster.tick(10);
        cluster.apply(&Action::Crash(1)).unwrap();
        cluster.apply(&Action::Restart(1)).unwrap();
        cluster.tick(5);
        let record = cluster.record().unwrap();
        assert_eq!(record.moment_at(0), Moment::after(0));
        assert_eq!(
            record.moment_at(4),
            Moment {
                entries: 0,
                ticks: 4
            }
        );
        // Everything done at tick 10, before time moved on.
        assert_eq!(record.moment_at(10), Moment::after(3));
        assert_eq!(
            record.moment_at(12),
            Moment {
                entries: 3,
                ticks: 2
            }
        );
        assert_eq!(record.moment_at(15), Moment::after(4));
        assert_eq!(record.moment_at(99), Moment::after(4));
        assert_eq!(record.tick_at(record.moment_at(12)), 12);
        let cut = record.cut(record.moment_at(12));
        assert_eq!(cut.end_tick(), 12);
        assert_eq!(cut.entries().len(), 4);
    }

    #[test]
    fn replay_from_checkpoints_equals_replay_from_the_start() {
        let mut cluster = recorded(5, 3, 25);
        cluster.tick(30);
        for step in 0..12u64 {
            if let Some(leader) = cluster.leader() {
                cluster.submit(leader, &format!("set k v{step}")).unwrap();
            }
            if step % 4 == 1 {
                cluster
                    .apply(&Action::Crash(step as usize % 5 + 1))
                    .unwrap();
            }
            if step % 4 == 3 {
                cluster
                    .apply(&Action::Restart(step as usize % 5 + 1))
                    .unwrap();
            }
            cluster.tick(17);
        }
        let record = cluster.record().unwrap().clone();
        assert!(
            record.checkpoint_count() >= 5,
            "{}",
            record.checkpoint_count()
        );
        let mut without = record.clone();
        without.checkpoints.clear();
        for tick in [0, 13, 30, 31, 77, 100, 150, 204, record.end_tick()] {
            let moment = record.moment_at(tick);
            let fast = record.replay_to(moment);
            let slow = without.replay_to(moment);
            assert_eq!(fast.now(), tick);
            assert_eq!(fast.history_digest(), slow.history_digest(), "tick {tick}");
            let statuses =
                |cluster: &Cluster| -> Vec<_> { (1..=5).map(|id| cluster.status(id)).collect() };
            assert_eq!(statuses(&fast), statuses(&slow), "tick {tick}");
            assert_eq!(
                fast.record().unwrap().entries(),
                slow.record().unwrap().entries()
            );
        }
        let end = record.replay();
        assert_eq!(end.history_digest(), cluster.history_digest());
    }

    #[test]
    fn old_checkpoints_thin_out() {
        let mut cluster = recorded(1, 0, 1);
        for _ in 0..200 {
            cluster.tick(1);
        }
        let record = cluster.record().unwrap();
        assert!(record.checkpoint_count() <= MAX_CHECKPOINTS);
        let ticks: Vec<u64> = record
            .checkpoints
            .iter()
            .map(|(_, checkpoint)| checkpoint.tick())
            .collect();
        // The newest are one tick apart, and no gap anywhere (from tick 0 on) is more
        // than twice what an even spread of the older ones would leave.
        let recent = &ticks[ticks.len() - RECENT_CHECKPOINTS..];
        assert!(
            recent.windows(2).all(|pair| pair[1] - pair[0] == 1),
            "{ticks:?}"
        );
        assert_eq!(*ticks.last().unwrap(), 200);
        let even = 200 / (MAX_CHECKPOINTS - RECENT_CHECKPOINTS) as u64;
        let mut gaps = vec![ticks[0]];
        gaps.extend(ticks.windows(2).map(|pair| pair[1] - pair[0]));
        assert!(gaps.iter().all(|&gap| gap <= 2 * even), "{ticks:?}");
    }

    #[test]
    fn a_script_names_the_commands_as_typed() {
        let mut cluster = recorded(3, 42, 0);
        cluster
            .apply(&Action::Set(Setting::BatchEntries(3)))
            .unwrap();
        cluster.tick(30);
        let leader = cluster.leader().unwrap();
        let first = cluster.begin_command();
        cluster.apply(&Action::Crash(leader)).unwrap();
        cluster.end_command(first, Some("crash leader"));
        let script = cluster.record().unwrap().to_script();
        let lines: Vec<&str> = script.lines().collect();
        assert_eq!(
            lines[1..],
            [
                "cluster 3 seed 42",
                "set batch-entries 3",
                "tick 30",
                "# crash leader",
                &format!("crash {leader}"),
            ]
        );
    }
}
