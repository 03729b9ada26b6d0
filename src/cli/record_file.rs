//! `--record FILE`: the session written to a file as it happens, in the same script
//! form as `save` (`cluster …` with its seed, then one action per line), flushed after
//! every change so that a crashed terminal loses nothing.
//!
//! Only the last entry of a record can still change (a free-running clock's ticks
//! grow one `tick N`), so the file is appended to, and only its last entry is
//! rewritten as it grows. `undo`, `rewind` and `goto` cut the record short: then the
//! current cluster's part of the file is written again. A `cluster` command starts a
//! new part below the old one, so the file holds the whole session and replays to
//! where it ended. When the session ends, an `expect digest` line closes the file.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::cluster::{Cluster, Entry, Record};

/// A record file shared between the session and the free-running clock's thread
/// (which grows its last `tick N`). Lock order: the cluster first, then this.
pub type SharedRecordFile = Arc<Mutex<RecordFile>>;

/// Locks a shared record file (a poisoned lock is still a consistent file state: each
/// write is completed or redone by the next sync).
pub fn lock_file(file: &SharedRecordFile) -> MutexGuard<'_, RecordFile> {
    file.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// See the module documentation.
#[derive(Debug)]
pub struct RecordFile {
    /// The open file.
    file: File,
    /// Its path, for messages.
    path: PathBuf,
    /// Where the current cluster's part begins (earlier clusters' parts stay above).
    part_start: u64,
    /// How many entries of the record are written and final: all but the last.
    final_entries: usize,
    /// Where the last entry's lines begin; it is rewritten whenever it changes.
    tail_start: u64,
    /// The last entry as written, to skip writing it again unchanged.
    tail: Option<Entry>,
    /// The first write error, shown to the user once.
    error: Option<String>,
    /// True once the error was shown.
    error_shown: bool,
}

impl RecordFile {
    /// Creates (or empties) `path` and writes `record` to it.
    pub fn create(path: &Path, record: &Record) -> std::io::Result<RecordFile> {
        let file = File::create(path)?;
        let mut this = RecordFile {
            file,
            path: path.to_path_buf(),
            part_start: 0,
            final_entries: 0,
            tail_start: 0,
            tail: None,
            error: None,
            error_shown: false,
        };
        this.write_part(record)?;
        Ok(this)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Brings the file up to date with `record`, which has grown since the last call
    /// (if it shrank, the part is written again).
    pub fn sync(&mut self, record: &Record) {
        let result = self.try_sync(record);
        self.note(result);
    }

    /// Writes the current cluster's part again, after `undo`, `rewind` or `goto`.
    pub fn rewrite(&mut self, record: &Record) {
        let result = self.write_part(record);
        self.note(result);
    }

    /// Starts a new part below the current one, for a new cluster.
    pub fn new_part(&mut self, record: &Record) {
        let result = self.file.seek(SeekFrom::End(0)).and_then(|end| {
            self.part_start = end;
            self.write_part(record)
        });
        self.note(result);
    }

    /// Closes the session: brings the file up to date and adds its end, a line that
    /// checks the replay reaches the same history.
    pub fn finish(&mut self, cluster: &Cluster) {
        let Some(record) = cluster.record() else {
            return;
        };
        let result = self.try_sync(record).and_then(|()| {
            let end = end_lines(cluster);
            self.file.seek(SeekFrom::End(0))?;
            self.file.write_all(end.as_bytes())?;
            self.file.flush()
        });
        self.note(result);
    }

    /// The first write error, once: `None` if all went well or it was shown already.
    pub fn take_error(&mut self) -> Option<String> {
        if self.error_shown {
            return None;
        }
        let error = self.error.clone()?;
        self.error_shown = true;
        Some(format!(
            "--record {}: cannot write: {error}",
            self.path.display()
        ))
    }

    fn note(&mut self, result: std::io::Result<()>) {
        if let Err(error) = result
            && self.error.is_none()
        {
            self.error = Some(error.to_string());
        }
    }

    /// Writes the part from its start: the header, then every entry.
    fn write_part(&mut self, record: &Record) -> std::io::Result<()> {
        self.file.set_len(self.part_start)?;
        self.file.seek(SeekFrom::Start(self.part_start))?;
        self.file.write_all(record.script_header().as_bytes())?;
        self.tail_start = self.part_start + record.script_header().len() as u64;
        self.final_entries = 0;
        self.tail = None;
        self.write_entries(record)
    }

    fn try_sync(&mut self, record: &Record) -> std::io::Result<()> {
        let entries = record.entries();
        if entries.len() < self.final_entries + usize::from(self.tail.is_some()) {
            return self.write_part(record);
        }
        if entries.len() == self.final_entries + 1 && self.tail.as_ref() == entries.last() {
            return Ok(());
        }
        self.write_entries(record)
    }

    /// Rewrites the last entry written and writes those after it.
    fn write_entries(&mut self, record: &Record) -> std::io::Result<()> {
        let entries = record.entries();
        let Some(last) = entries.last() else {
            return self.file.flush();
        };
        self.file.set_len(self.tail_start)?;
        self.file.seek(SeekFrom::Start(self.tail_start))?;
        let mut text = String::new();
        for entry in &entries[self.final_entries..entries.len() - 1] {
            text.push_str(&entry.script_lines());
        }
        self.file.write_all(text.as_bytes())?;
        self.tail_start += text.len() as u64;
        self.file.write_all(last.script_lines().as_bytes())?;
        self.final_entries = entries.len() - 1;
        self.tail = Some(last.clone());
        self.file.flush()
    }
}

/// The end of a saved session: where it ended, and an `expect digest` that checks a
/// replay reaches the same history.
pub fn end_lines(cluster: &Cluster) -> String {
    let digest = cluster.history_digest();
    format!(
        "# end: tick {}, history digest {digest:016x}\nexpect digest {digest:016x}\n",
        cluster.now()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{Action, Config};

    fn temp_file(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("raft-record-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn the_file_follows_the_record_as_it_grows_and_shrinks() {
        let path = temp_file("grows.txt");
        let mut cluster = Cluster::new(Config::new(3).seed(9).recorded());
        let mut file = RecordFile::create(&path, cluster.record().unwrap()).unwrap();
        let read = || std::fs::read_to_string(&path).unwrap();
        assert!(read().ends_with("cluster 3 seed 9\n"), "{}", read());
        for _ in 0..5 {
            cluster.tick(1);
            file.sync(cluster.record().unwrap());
        }
        assert!(read().ends_with("seed 9\ntick 5\n"), "{}", read());
        let first = cluster.begin_command();
        cluster.apply(&Action::Crash(2)).unwrap();
        cluster.end_command(first, Some("crash n2"));
        cluster.tick(3);
        file.sync(cluster.record().unwrap());
        assert!(
            read().ends_with("seed 9\ntick 5\n# crash n2\ncrash 2\ntick 3\n"),
            "{}",
            read()
        );
        assert_eq!(read(), cluster.record().unwrap().to_script());
        // Cut short, as `undo` does: the part is written again.
        let record = cluster.record().unwrap().clone();
        let earlier = record.replay_to(record.moment_at(2));
        file.rewrite(earlier.record().unwrap());
        assert!(read().ends_with("seed 9\ntick 2\n"), "{}", read());
        file.finish(&earlier);
        assert!(read().contains("expect digest "), "{}", read());
        assert!(file.take_error().is_none());
    }

    #[test]
    fn a_new_cluster_starts_a_new_part() {
        let path = temp_file("parts.txt");
        let mut cluster = Cluster::new(Config::new(3).seed(1).recorded());
        let mut file = RecordFile::create(&path, cluster.record().unwrap()).unwrap();
        cluster.tick(4);
        file.sync(cluster.record().unwrap());
        let next = Cluster::new(Config::new(5).seed(2).recorded());
        file.new_part(next.record().unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().filter(|line| !line.starts_with('#')).collect();
        assert_eq!(lines, ["cluster 3 seed 1", "tick 4", "cluster 5 seed 2"]);
    }
}
