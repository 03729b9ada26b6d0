//! The real-time driver: a thread that advances a shared cluster by one virtual tick
//! every interval of wall time, for the interactive playground (the "free-running
//! clock" the prompt talks about). Virtual time itself is the engine's; this only
//! decides *when* the next tick is taken.
//!
//! It uses the same [`Cluster::tick`] as everything else, so a free-running cluster
//! behaves exactly like one ticked by hand; only *when* commands land between ticks
//! depends on the person at the keyboard. Pausing stops the driver between two ticks.

use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{RecvTimeoutError, Sender};

use super::Cluster;

/// A cluster shared between the driver thread and its user.
pub type SharedCluster = Arc<Mutex<Cluster>>;

/// Locks a shared cluster. A panic while the lock was held is a bug that was already
/// reported; the cluster is still usable for views, so the poison is ignored.
pub fn lock(cluster: &SharedCluster) -> MutexGuard<'_, Cluster> {
    cluster
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Called after every tick of the clock, with the cluster still locked.
pub type OnTick = Box<dyn FnMut(&mut Cluster) + Send>;

/// Messages to the driver thread.
enum Control {
    /// Stop ticking; the sender hears back once no tick will follow.
    Pause(Sender<()>),
    Resume,
    Interval(Duration),
    Stop,
}

/// A running driver thread. Dropping it stops the thread.
pub struct RealTimeDriver {
    control: Sender<Control>,
    thread: Option<JoinHandle<()>>,
    running: bool,
    interval: Duration,
}

impl RealTimeDriver {
    /// Starts a clock that ticks `cluster` every `interval` (running at once unless
    /// `paused`), calling `on_tick` after each tick.
    pub fn start(
        cluster: SharedCluster,
        interval: Duration,
        paused: bool,
        mut on_tick: OnTick,
    ) -> RealTimeDriver {
        let (control, commands) = crossbeam_channel::unbounded();
        let thread = std::thread::Builder::new()
            .name("clock".into())
            .spawn(move || {
                let mut running = !paused;
                let mut interval = interval;
                let mut next = Instant::now() + interval;
                loop {
                    let command = if running {
                        let wait = next.saturating_duration_since(Instant::now());
                        commands.recv_timeout(wait)
                    } else {
                        commands.recv().map_err(|_| RecvTimeoutError::Disconnected)
                    };
                    match command {
                        Ok(Control::Pause(done)) => {
                            running = false;
                            let _ = done.send(());
                        }
                        Ok(Control::Resume) => {
                            running = true;
                            next = Instant::now() + interval;
                        }
                        Ok(Control::Interval(new)) => {
                            interval = new;
                            next = Instant::now() + interval;
                        }
                        Ok(Control::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                        Err(RecvTimeoutError::Timeout) => {
                            let mut guard = lock(&cluster);
                            guard.tick(1);
                            on_tick(&mut guard);
                            drop(guard);
                            next += interval;
                            // After a long stall, do not race to catch up.
                            let now = Instant::now();
                            if next < now {
                                next = now + interval;
                            }
                        }
                    }
                }
            })
            .expect("the OS can start a thread");
        RealTimeDriver {
            control,
            thread: Some(thread),
            running: !paused,
            interval,
        }
    }

    /// Stops ticking, between two ticks: when this returns, no tick will follow.
    pub fn pause(&mut self) {
        self.running = false;
        let (done, paused) = crossbeam_channel::bounded(1);
        if self.control.send(Control::Pause(done)).is_ok() {
            let _ = paused.recv();
        }
    }

    /// Starts ticking again.
    pub fn resume(&mut self) {
        self.running = true;
        let _ = self.control.send(Control::Resume);
    }

    /// True while the clock ticks.
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// Changes the real time per tick.
    pub fn set_interval(&mut self, interval: Duration) {
        self.interval = interval;
        let _ = self.control.send(Control::Interval(interval));
    }

    /// The real time per tick.
    pub fn interval(&self) -> Duration {
        self.interval
    }
}

impl Drop for RealTimeDriver {
    fn drop(&mut self) {
        let _ = self.control.send(Control::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::Config;

    #[test]
    fn ticks_in_real_time_and_pauses() {
        let cluster: SharedCluster = Arc::new(Mutex::new(Cluster::new(Config::new(3).seed(4))));
        let ticks = Arc::new(Mutex::new(0u64));
        let counter = ticks.clone();
        let mut clock = RealTimeDriver::start(
            cluster.clone(),
            Duration::from_millis(1),
            false,
            Box::new(move |_| *counter.lock().unwrap() += 1),
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while lock(&cluster).leader().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(
            lock(&cluster).leader().is_some(),
            "a leader emerges in real time"
        );
        clock.pause();
        std::thread::sleep(Duration::from_millis(20));
        let paused_at = lock(&cluster).now();
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(
            lock(&cluster).now(),
            paused_at,
            "a paused clock does not tick"
        );
        assert_eq!(
            *ticks.lock().unwrap(),
            paused_at,
            "on_tick ran once per tick"
        );
        clock.resume();
        let deadline = Instant::now() + Duration::from_secs(10);
        while lock(&cluster).now() == paused_at && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        assert!(lock(&cluster).now() > paused_at);
    }
}
