//! The harness of `tests/lab3.rs`: the MIT 6.5840 Lab 3 (2024) tester's `config.go`
//! (`checkOneLeader`, `checkTerms`, `checkNoLeader`, `nCommitted`, `one`, `wait`,
//! `crash1`, `start1`, ...) rebuilt on [`Cluster`] and virtual time.
//!
//! # How the lab maps onto the playground
//!
//! - **Servers** are numbered from 0 here, as in the lab, so that the tests can keep
//!   the lab's `(leader + 1) % servers` arithmetic; the harness adds 1 to make the
//!   cluster's `NodeId`.
//! - **Time**: one lab second is [`SECOND`] = 20 ticks (50 ms per tick, with the default
//!   heartbeat of 2 ticks and election timeout in [10, 20) ticks). Every `time.Sleep`
//!   becomes [`Lab::sleep`]; nothing here sleeps for real.
//! - **Goroutines** (the concurrent `one()` calls of TestUnreliableAgree, the churn
//!   clients) are state machines, [`Task`]s, that [`Lab::sleep`] polls once before every
//!   tick, in an order drawn from the harness's seeded generator. The main test body
//!   runs between those polls. A run is therefore a pure function of the seed.
//! - **Crashes**: the lab's `crash1(i)` disconnects `i` before it kills it, and
//!   `start1(i)` restarts it still disconnected; the tests call `connect(i)` afterwards.
//!   [`Lab::crash1`] and [`Lab::start1`] do exactly that (the cluster's own crash and
//!   restart leave links alone).
//! - **What was applied**: the lab's `nCommitted` reads the tester's record of what each
//!   server applied; here the cluster's checker keeps that record, and also checks every
//!   safety property on every step. Like `nCommitted` failing on `applyErr`,
//!   [`Lab::n_committed`] fails as soon as the checker has found a violation.
//! - **Counters**: the lab counts an RPC once; the cluster counts the request and the
//!   reply, so the lab's RPC limits double in messages.
//!
//! Every failure panics with the test's name, its seed and the tick, prints the
//! checker's violations and the last trace events. `LAB3_SEED_OFFSET=k` shifts every
//! test's seed by `k`, to try the suite under other schedules; `LAB3_FEATURES=pre-vote`
//! (a comma-separated list of switches) runs it with mechanisms beyond the lab.

use std::collections::BTreeMap;
use std::fmt::Display;

use raft_playground::raft::Features;
use raft_playground::{Cluster, Config, Role, Stats};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// Ticks in one lab second.
pub const SECOND: u64 = 20;
/// The lab's `RaftElectionTimeout` (1 s): the tests size their sleeps with it.
pub const ELECTION_TIMEOUT: u64 = SECOND;
/// The lab's `MAXLOGSIZE`: persisted Raft state must stay below this many bytes (3D).
pub const MAX_LOG_SIZE: u64 = 2000;
/// The lab's `SnapShotInterval`: the service snapshots every this many entries (3D).
pub const SNAPSHOT_INTERVAL: u64 = 10;
/// `one()` gives up after 10 s.
const ONE_BUDGET: u64 = 10 * SECOND;
/// `one()` waits 2 s for agreement on each index it got.
const ONE_AGREEMENT: u64 = 2 * SECOND;
/// The lab fails a test that takes more than 120 s (`checkTimeout`).
const TEST_LIMIT: u64 = 120 * SECOND;

/// Milliseconds of lab time as ticks, rounded, at least one.
pub fn ms(millis: u64) -> u64 {
    ((millis * SECOND + 500) / 1000).max(1)
}

/// The value of `LAB3_SEED_OFFSET`, 0 if unset.
fn seed_offset() -> u64 {
    std::env::var("LAB3_SEED_OFFSET")
        .ok()
        .and_then(|text| text.parse::<u64>().ok())
        .unwrap_or(0)
}

/// The switches beyond Lab 3 every test of this binary runs with: `LAB3_FEATURES`
/// from the environment if set (`pre-vote,check-quorum`), else the test binary's own
/// `LAB3_FEATURES` constant (none for `tests/lab3.rs`; pre-vote and check-quorum for
/// `tests/lab3_beyond.rs`, which runs the same suite with them).
pub fn features() -> Features {
    let list = std::env::var("LAB3_FEATURES").unwrap_or_else(|_| crate::LAB3_FEATURES.to_string());
    Features::parse_list(&list).unwrap_or_else(|error| panic!("LAB3_FEATURES: {error}"))
}

/// The seed of a test: its fixed base, shifted by `LAB3_SEED_OFFSET` if set.
pub fn seed(base: u64) -> u64 {
    base.wrapping_add(seed_offset().wrapping_mul(1_000_003))
}

/// A running Lab 3 test: the cluster, the tester's generator, and its goroutines.
pub struct Lab {
    /// The cluster under test.
    cluster: Cluster,
    /// Number of servers.
    n: usize,
    /// The tester's own randomness (the lab's `rand`), seeded from the test's seed.
    rng: Xoshiro256PlusPlus,
    /// The `begin()` text.
    desc: &'static str,
    /// Traffic and progress when the test began, for the summary line.
    start_stats: Stats,
    start_tick: u64,
    start_max_index: u64,
    /// The "goroutines" running beside the test body.
    tasks: Vec<Task>,
    /// The last tick at which the tasks were polled (each is polled once per tick).
    polled_at: Option<u64>,
    /// Set to tell churn clients to stop (the lab's `stop` flag).
    stop: bool,
}

impl Lab {
    /// The lab's `make_config(n, unreliable, snapshot)` plus `begin(desc)`: `n` servers,
    /// all up and connected; with `snapshot`, every server snapshots every
    /// [`SNAPSHOT_INTERVAL`] applied entries (the lab's `applierSnap`).
    pub fn new(n: usize, unreliable: bool, snapshot: bool, desc: &'static str, seed: u64) -> Lab {
        let mut config = Config::new(n).seed(seed);
        config.raft.features = features();
        let mut cluster = Cluster::new(config);
        cluster.set_unreliable(unreliable);
        if snapshot {
            cluster.set_auto_snapshot(Some(SNAPSHOT_INTERVAL));
        }
        println!("{desc} ... (seed {seed})");
        Lab {
            start_stats: cluster.stats(),
            start_tick: cluster.now(),
            start_max_index: cluster.checker().max_applied(),
            cluster,
            n,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x6b3a_5f2e_9d1c_4780),
            desc,
            tasks: Vec::new(),
            polled_at: None,
            stop: false,
        }
    }

    /// Fails the test: prints what the checker found and the last events, then panics
    /// with the test's name, seed and tick.
    #[track_caller]
    pub fn fail(&self, message: impl Display) -> ! {
        let violations = self.cluster.violations();
        if !violations.is_empty() {
            eprintln!("checker violations:");
            for violation in &violations {
                eprintln!("  {violation}");
            }
        }
        // `LAB3_EVENTS=N` shows more of the trace when hunting a failure.
        let count = std::env::var("LAB3_EVENTS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(40);
        eprintln!("last events:");
        for event in self.cluster.events(count) {
            eprintln!("  {event:?}");
        }
        panic!(
            "{}: {message} (seed {}, LAB3_SEED_OFFSET={}, tick {})",
            self.desc,
            self.cluster.seed(),
            seed_offset(),
            self.cluster.now()
        );
    }

    /// Fails if the checker has found any broken invariant.
    #[track_caller]
    pub fn check_violations(&self) {
        if !self.cluster.checker().violations().is_empty() {
            self.fail(format!(
                "apply error: {}",
                self.cluster.violations().join("; ")
            ));
        }
    }

    // ----- the lab's rand -----

    /// `rand.Int()`: a non-negative 63-bit number.
    pub fn rand_int(&mut self) -> u64 {
        self.rng.random_range(0..1 << 63)
    }

    /// `rand.Int() % bound`.
    pub fn rand_below(&mut self, bound: u64) -> u64 {
        self.rng.random_range(0..bound)
    }

    /// `rand.Int31()`.
    pub fn rand_int31(&mut self) -> u64 {
        self.rng.random_range(0..1 << 31)
    }

    /// `randstring(n)`: `n` random printable characters.
    pub fn rand_string(&mut self, n: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        (0..n)
            .map(|_| ALPHABET[self.rng.random_range(0..ALPHABET.len())] as char)
            .collect()
    }

    /// A random server index.
    pub fn rand_server(&mut self) -> usize {
        self.rng.random_range(0..self.n)
    }

    /// True with probability `per_mille / 1000` (the lab's `rand.Int() % 1000 < k`).
    pub fn chance(&mut self, per_mille: u32) -> bool {
        self.rng.random_ratio(per_mille, 1000)
    }

    /// Shuffles a slice (the order in which goroutines started together run).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.rng.random_range(0..=i);
            items.swap(i, j);
        }
    }

    // ----- time -----

    /// `time.Sleep`: advances `ticks` ticks, polling the running tasks before each.
    pub fn sleep(&mut self, ticks: u64) {
        if self.tasks.iter().all(Task::finished) {
            self.cluster.tick(ticks);
            return;
        }
        for _ in 0..ticks {
            self.poll_tasks();
            self.cluster.tick(1);
        }
    }

    /// The current tick.
    pub fn now(&self) -> u64 {
        self.cluster.now()
    }

    // ----- the servers -----

    fn node(&self, i: usize) -> usize {
        assert!(i < self.n, "no server {i}");
        i + 1
    }

    /// `cfg.connected[i]`.
    pub fn connected(&self, i: usize) -> bool {
        self.cluster.status(self.node(i)).connected
    }

    /// `cfg.rafts[i] != nil`.
    pub fn up(&self, i: usize) -> bool {
        self.cluster.is_up(self.node(i))
    }

    /// `rafts[i].GetState()`: the term and whether `i` believes it leads.
    pub fn get_state(&self, i: usize) -> (u64, bool) {
        let status = self.cluster.status(self.node(i));
        (status.term, status.role == Role::Leader)
    }

    /// `rafts[i].Start(cmd)`: `Some((index, term))` if `i` is an up leader.
    pub fn start(&mut self, i: usize, cmd: impl Display) -> Option<(u64, u64)> {
        let node = self.node(i);
        self.cluster.submit(node, &cmd.to_string()).ok()
    }

    /// `connect(i)`.
    pub fn connect(&mut self, i: usize) {
        let node = self.node(i);
        self.cluster.connect(node).expect("a lab server exists");
    }

    /// `disconnect(i)`.
    pub fn disconnect(&mut self, i: usize) {
        let node = self.node(i);
        self.cluster.disconnect(node).expect("a lab server exists");
    }

    /// `crash1(i)`: disconnects `i`, then kills it; what it persisted survives.
    pub fn crash1(&mut self, i: usize) {
        let node = self.node(i);
        self.cluster.disconnect(node).expect("a lab server exists");
        self.cluster.crash(node).expect("a lab server exists");
    }

    /// `start1(i)`: `crash1(i)`, then a new instance from what it persisted, still
    /// disconnected (the tests connect it).
    pub fn start1(&mut self, i: usize) {
        self.crash1(i);
        let node = self.node(i);
        self.cluster.restart(node).expect("a lab server exists");
    }

    /// `setunreliable`.
    pub fn set_unreliable(&mut self, on: bool) {
        self.cluster.set_unreliable(on);
    }

    /// `setlongreordering`.
    pub fn set_long_reordering(&mut self, on: bool) {
        self.cluster.set_long_reordering(on);
    }

    /// `LogSize()`: the largest persisted Raft state, in bytes.
    pub fn log_size(&self) -> u64 {
        (1..=self.n)
            .map(|node| {
                self.cluster
                    .raft_state_size(node)
                    .expect("a lab server exists")
            })
            .max()
            .unwrap_or(0)
    }

    /// `rpcTotal()`, in messages (requests and replies).
    pub fn messages(&self) -> u64 {
        self.cluster.stats().messages_sent
    }

    /// `bytesTotal()`.
    pub fn bytes(&self) -> u64 {
        self.cluster.stats().bytes_sent
    }

    /// Servers the checkers look at: connected and up.
    fn live(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.n).filter(|&i| self.connected(i) && self.up(i))
    }

    // ----- the checkers -----

    /// `checkOneLeader()`: up to 10 tries, each after 450–549 ms, to find exactly one
    /// leader in the highest term among the connected servers. Returns it.
    #[track_caller]
    pub fn check_one_leader(&mut self) -> usize {
        for _ in 0..10 {
            let millis = 450 + self.rand_below(100);
            self.sleep(ms(millis));
            let mut leaders: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
            for i in self.live() {
                let (term, leader) = self.get_state(i);
                if leader {
                    leaders.entry(term).or_default().push(i);
                }
            }
            for (term, ids) in &leaders {
                if ids.len() > 1 {
                    self.fail(format!("term {term} has {} (>1) leaders", ids.len()));
                }
            }
            if let Some((_, ids)) = leaders.last_key_value() {
                return ids[0];
            }
        }
        self.fail("expected one leader, got none")
    }

    /// `checkTerms()`: every connected server is in the same term; returns it (0 if no
    /// server is connected).
    #[track_caller]
    pub fn check_terms(&self) -> u64 {
        let mut term = None;
        for i in self.live() {
            let (xterm, _) = self.get_state(i);
            match term {
                None => term = Some(xterm),
                Some(term) if term != xterm => self.fail("servers disagree on term"),
                Some(_) => {}
            }
        }
        term.unwrap_or(0)
    }

    /// `checkNoLeader()`: no connected server believes it leads.
    #[track_caller]
    pub fn check_no_leader(&self) {
        for i in self.live() {
            if self.get_state(i).1 {
                self.fail(format!(
                    "expected no leader among connected servers, but {i} claims to be leader"
                ));
            }
        }
    }

    /// `nCommitted(index)`: how many servers applied `index`, and what. Fails if the
    /// checker found a broken invariant (the lab's `applyErr`).
    #[track_caller]
    pub fn n_committed(&self, index: u64) -> (usize, Option<String>) {
        self.check_violations();
        self.cluster.applied_count(index)
    }

    /// `wait(index, n, startTerm)`: polls with backoff (10 ms doubling to 1.28 s, 30
    /// times, about 30 s) until `n` servers applied `index`, and returns what they
    /// applied. `None` is the lab's -1: with `start_term`, some server moved past it.
    /// Fails if fewer than `n` applied it in the end.
    #[track_caller]
    pub fn wait(&mut self, index: u64, n: usize, start_term: Option<u64>) -> Option<String> {
        let mut backoff = 10;
        for _ in 0..30 {
            if self.n_committed(index).0 >= n {
                break;
            }
            self.sleep(ms(backoff));
            if backoff < 1000 {
                backoff *= 2;
            }
            if let Some(start_term) = start_term
                && (0..self.n).any(|i| self.up(i) && self.get_state(i).0 > start_term)
            {
                // Someone has moved on: we can no longer guarantee that we'll "win".
                return None;
            }
        }
        let (nd, cmd) = self.n_committed(index);
        if nd < n {
            self.fail(format!("only {nd} decided for index {index}; wanted {n}"));
        }
        cmd
    }

    /// `one(cmd, expectedServers, retry)`: submits `cmd` until some server accepts and
    /// `expected` servers apply it; returns its index. See [`OneCall`].
    #[track_caller]
    pub fn one(&mut self, cmd: impl Display, expected: usize, retry: bool) -> u64 {
        let mut call = OneCall::new(cmd.to_string(), expected, retry, self.now());
        loop {
            match call.poll(self) {
                Ok(Some(index)) => return index,
                Ok(None) => self.sleep(1),
                Err(message) => self.fail(message),
            }
        }
    }

    // ----- goroutines -----

    /// `go cfg.one(cmd, expected, retry)`.
    pub fn spawn_one(&mut self, cmd: impl Display, expected: usize, retry: bool) {
        let call = OneCall::new(cmd.to_string(), expected, retry, self.now());
        self.tasks.push(Task::One(call));
    }

    /// `go cfn(me, ch)`: a churn client (see [`ChurnClient`]).
    pub fn spawn_churn_client(&mut self, me: usize) {
        self.tasks.push(Task::Churn(ChurnClient::new(me)));
    }

    /// Tells churn clients to stop after their current attempt.
    pub fn stop_clients(&mut self) {
        self.stop = true;
    }

    /// Polls every unfinished task once, unless they were already polled at this tick.
    fn poll_tasks(&mut self) {
        let now = self.now();
        if self.polled_at == Some(now) {
            return;
        }
        self.polled_at = Some(now);
        let mut tasks = std::mem::take(&mut self.tasks);
        let count = tasks.len();
        let first = if count > 0 {
            self.rng.random_range(0..count)
        } else {
            0
        };
        for k in 0..count {
            let task = &mut tasks[(first + k) % count];
            if let Err(message) = task.poll(self) {
                self.tasks = tasks;
                self.fail(message);
            }
        }
        self.tasks = tasks;
    }

    /// `wg.Wait()` / reading every client's channel: runs until every task finished,
    /// failing with `failure` after `limit` ticks. Returns the churn clients' committed
    /// values, one list per client, and forgets the tasks.
    #[track_caller]
    pub fn join_tasks(&mut self, limit: u64, failure: &str) -> Vec<Vec<String>> {
        let deadline = self.now() + limit;
        loop {
            self.poll_tasks();
            if self.tasks.iter().all(Task::finished) {
                break;
            }
            if self.now() >= deadline {
                self.fail(failure);
            }
            self.cluster.tick(1);
        }
        std::mem::take(&mut self.tasks)
            .into_iter()
            .filter_map(|task| match task {
                Task::One(_) => None,
                Task::Churn(client) => Some(client.values),
            })
            .collect()
    }

    /// `end()`: the test stayed within the lab's 120 s, the checker found nothing, and
    /// the lab's summary line: ticks (and lab seconds), peers, messages, bytes, and the
    /// highest index anyone applied.
    #[track_caller]
    pub fn end(&self) {
        self.check_violations();
        let ticks = self.now() - self.start_tick;
        if ticks > TEST_LIMIT {
            self.fail(format!("test took longer than 120 seconds ({ticks} ticks)"));
        }
        let stats = self.cluster.stats();
        println!(
            "  ... Passed -- {:5} ticks ({:5.1} s)  {} {:5} {:8} {:4}",
            ticks,
            ticks as f64 / SECOND as f64,
            self.n,
            stats.messages_sent - self.start_stats.messages_sent,
            stats.bytes_sent - self.start_stats.bytes_sent,
            self.cluster.checker().max_applied() - self.start_max_index,
        );
    }
}

/// A goroutine of a test.
enum Task {
    /// `go cfg.one(...)`.
    One(OneCall),
    /// A churn client.
    Churn(ChurnClient),
}

impl Task {
    fn finished(&self) -> bool {
        match self {
            Task::One(call) => matches!(call.state, OneState::Done(_)),
            Task::Churn(client) => client.state == ChurnState::Stopped,
        }
    }

    fn poll(&mut self, lab: &mut Lab) -> Result<(), String> {
        match self {
            Task::One(call) => call.poll(lab).map(|_| ()),
            Task::Churn(client) => {
                client.poll(lab);
                Ok(())
            }
        }
    }
}

/// Where a `one()` call is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OneState {
    /// About to offer the command to the servers, round robin.
    Start,
    /// A server accepted it at `index` at tick `since`: waiting for agreement.
    Wait { index: u64, since: u64 },
    /// Nobody accepted it: sleeping until `until` (the lab's 50 ms).
    Sleep { until: u64 },
    /// Agreed at this index.
    Done(u64),
}

/// The lab's `one(cmd, expectedServers, retry)` as a state machine: for up to 10 s,
/// offer `cmd` to the connected servers round robin until one accepts, then check
/// every tick for 2 s whether `expected` servers applied `cmd` at that index. Without
/// `retry` the first 2 s without agreement fail; with it the command is offered again
/// (which may commit it twice, as the lab allows).
pub struct OneCall {
    cmd: String,
    expected: usize,
    retry: bool,
    /// When the call began.
    since: u64,
    /// The last server offered the command.
    starts: usize,
    state: OneState,
}

impl OneCall {
    fn new(cmd: String, expected: usize, retry: bool, now: u64) -> OneCall {
        OneCall {
            cmd,
            expected,
            retry,
            since: now,
            starts: 0,
            state: OneState::Start,
        }
    }

    /// Does what the call does at this tick: `Ok(Some(index))` once agreed,
    /// `Ok(None)` to be polled again next tick, `Err` with the lab's message on failure.
    fn poll(&mut self, lab: &mut Lab) -> Result<Option<u64>, String> {
        let now = lab.now();
        loop {
            match self.state {
                OneState::Done(index) => return Ok(Some(index)),
                OneState::Start => {
                    if now - self.since >= ONE_BUDGET {
                        return Err(format!("one({}) failed to reach agreement", self.cmd));
                    }
                    let mut accepted = None;
                    for _ in 0..lab.n {
                        self.starts = (self.starts + 1) % lab.n;
                        if lab.connected(self.starts)
                            && lab.up(self.starts)
                            && let Some((index, _)) = lab.start(self.starts, &self.cmd)
                        {
                            accepted = Some(index);
                            break;
                        }
                    }
                    self.state = match accepted {
                        Some(index) => OneState::Wait { index, since: now },
                        None => {
                            self.state = OneState::Sleep {
                                until: now + ms(50),
                            };
                            return Ok(None);
                        }
                    };
                }
                OneState::Wait { index, since } => {
                    if now - since < ONE_AGREEMENT {
                        let (nd, cmd) = lab.n_committed(index);
                        if nd > 0 && nd >= self.expected && cmd.as_deref() == Some(&self.cmd) {
                            self.state = OneState::Done(index);
                            return Ok(Some(index));
                        }
                        return Ok(None);
                    }
                    if !self.retry {
                        return Err(format!("one({}) failed to reach agreement", self.cmd));
                    }
                    self.state = OneState::Start;
                }
                OneState::Sleep { until } => {
                    if now < until {
                        return Ok(None);
                    }
                    self.state = OneState::Start;
                }
            }
        }
    }
}

/// Where a churn client is.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ChurnState {
    /// At the top of its loop.
    Begin,
    /// Its value `x` was accepted at `index`; the next check of `nCommitted` is at
    /// tick `at`, after which it sleeps the `step`th of 10, 20, 50, 100, 200 ms.
    Poll {
        x: String,
        index: u64,
        step: usize,
        at: u64,
    },
    /// Nobody accepted its value: sleeping until `until` (79 + 17·me ms).
    Sleep { until: u64 },
    /// Saw the stop flag.
    Stopped,
}

/// A churn client (`cfn` of `internalChurn`): until stopped, offers a random value to
/// every live server, connected or not; if one accepts, checks `nCommitted` after
/// 10, 20, 50, 100 and 200 ms and records the value if it was committed there.
pub struct ChurnClient {
    me: usize,
    values: Vec<String>,
    state: ChurnState,
}

impl ChurnClient {
    fn new(me: usize) -> ChurnClient {
        ChurnClient {
            me,
            values: Vec::new(),
            state: ChurnState::Begin,
        }
    }

    fn poll(&mut self, lab: &mut Lab) {
        const BACKOFF_MS: [u64; 5] = [10, 20, 50, 100, 200];
        let now = lab.now();
        loop {
            match &mut self.state {
                ChurnState::Stopped => return,
                ChurnState::Begin => {
                    if lab.stop {
                        self.state = ChurnState::Stopped;
                        return;
                    }
                    let x = lab.rand_int().to_string();
                    let mut accepted = None;
                    for i in 0..lab.n {
                        // Try them all, maybe one of them is a leader.
                        if lab.up(i)
                            && let Some((index, _)) = lab.start(i, &x)
                        {
                            accepted = Some(index);
                        }
                    }
                    match accepted {
                        Some(index) => {
                            self.state = ChurnState::Poll {
                                x,
                                index,
                                step: 0,
                                at: now,
                            };
                        }
                        None => {
                            let until = now + ms(79 + 17 * self.me as u64);
                            self.state = ChurnState::Sleep { until };
                            return;
                        }
                    }
                }
                ChurnState::Poll { x, index, step, at } => {
                    if now < *at {
                        return;
                    }
                    if *step == BACKOFF_MS.len() {
                        // Maybe the leader will commit our value, maybe not; don't wait forever.
                        self.state = ChurnState::Begin;
                        continue;
                    }
                    let (nd, cmd) = lab.n_committed(*index);
                    if nd > 0 {
                        if cmd.as_deref() == Some(x.as_str()) {
                            self.values.push(x.clone());
                        }
                        self.state = ChurnState::Begin;
                    } else {
                        *at = now + ms(BACKOFF_MS[*step]);
                        *step += 1;
                        return;
                    }
                }
                ChurnState::Sleep { until } => {
                    if now < *until {
                        return;
                    }
                    self.state = ChurnState::Begin;
                }
            }
        }
    }
}
