//! Every demo in `demos/` runs through the real binary (`raft-playground run`) and
//! must pass; and the script runner reports failures as `FILE:LINE: ...` with a
//! non-zero exit status.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_raft-playground"));
    command.env("NO_COLOR", "1");
    command
}

fn demos() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("demos");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("demos/ exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
        .collect();
    files.sort();
    files
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn script(name: &str, body: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("raft-playground-demos-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

#[test]
fn every_demo_passes_through_the_binary() {
    let files = demos();
    assert!(
        files.len() >= 19,
        "expected at least 19 demos, found {files:?}"
    );
    for file in files {
        let output = binary()
            .arg("run")
            .arg(&file)
            .output()
            .expect("the binary runs");
        let text = text(&output);
        assert!(
            output.status.success(),
            "{} failed:\n{text}",
            file.display()
        );
        // Narration is printed, and every expectation passed.
        assert!(
            text.contains("✓"),
            "{} asserts nothing:\n{text}",
            file.display()
        );
        // A demo that breaks a rule on purpose shows the violation it expects, then
        // mends the rule and shows the same steps staying safe; any other demo shows
        // no violation at all.
        let source = std::fs::read_to_string(&file).unwrap();
        if source.contains("\nbreak ") {
            assert!(
                source.contains("\nexpect violation ") && source.contains("\nmend "),
                "{}: breaks a rule without expecting its violation and mending it",
                file.display()
            );
            assert!(
                source.trim_end().ends_with("expect no-violations"),
                "{}: ends without showing the mended run safe",
                file.display()
            );
        } else {
            assert!(!text.contains("VIOLATION"), "{}:\n{text}", file.display());
        }
    }
}

#[test]
fn a_rule_demo_without_its_expectation_fails_naming_the_invariant_and_tick() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("demos/12-forget-vote.txt");
    let source = std::fs::read_to_string(demo).unwrap();
    let cut: String = source
        .lines()
        .filter(|line| *line != "expect violation election-safety")
        .map(|line| format!("{line}\n"))
        .collect();
    assert_ne!(cut, source);
    let path = script("forget-vote-unexpected.txt", &cut);
    let output = binary().arg("run").arg(&path).output().unwrap();
    let text = text(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            ":24: violation of election-safety at tick 14: n3: n3 and n2 both won term 1"
        ),
        "{text}"
    );
}

#[test]
fn demos_are_deterministic() {
    let file = &demos()[0];
    let run = || text(&binary().arg("run").arg(file).output().unwrap());
    assert_eq!(run(), run());
}

#[test]
fn a_failed_expectation_names_file_and_line_and_exits_non_zero() {
    let path = script(
        "fails.txt",
        "# narration\ncluster 3 seed 1\nwait leader\nexpect term all = 7\nstatus\n",
    );
    let output = binary().arg("run").arg(&path).output().unwrap();
    let text = text(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let line = format!("{}:4: expected n1's term == 7, saw 1", path.display());
    assert!(text.contains(&line), "{text}");
    assert!(text.contains("narration"), "narration is echoed: {text}");
    assert!(
        !text.contains("» status"),
        "the run stops at the failure: {text}"
    );
}

#[test]
fn keep_going_runs_to_the_end_and_counts_failures() {
    let path = script(
        "keep-going.txt",
        "cluster 3 seed 1\nfrobnicate\nexpect leader\nwait leader\nexpect leader\ncrash 9\n",
    );
    let output = binary()
        .args(["run", "--keep-going"])
        .arg(&path)
        .output()
        .unwrap();
    let text = text(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains(":2: unknown command `frobnicate`"), "{text}");
    assert!(text.contains(":3: expected a leader, saw none"), "{text}");
    assert!(text.contains(":6: no node 9"), "{text}");
    assert!(text.contains("3 failures"), "{text}");
}

#[test]
fn scripts_read_standard_input_and_bad_files_are_reported() {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = binary()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"cluster 3 seed 2\nwait leader\nexpect leader\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("✓"));

    let output = binary().args(["run", "no/such/file.txt"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output).contains("no/such/file.txt: cannot read"),
        "{}",
        text(&output)
    );

    let path = script("binary.txt", "");
    std::fs::write(&path, b"cluster 3\n\xff\xfe junk\n").unwrap();
    let output = binary().arg("run").arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output).contains(":2: not valid UTF-8"),
        "{}",
        text(&output)
    );
}

#[test]
fn run_takes_nodes_and_seed() {
    let path = script("flags.txt", "expect role n7 follower\nwait leader\n");
    let output = binary()
        .args(["run", "--nodes", "7", "--seed", "3"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let output = binary()
        .args(["--nodes", "16", "run"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).contains("16 is not in 1..=15"),
        "{}",
        text(&output)
    );
}

#[test]
fn version_and_help_say_what_the_binary_is() {
    let output = binary().arg("--version").output().unwrap();
    assert!(output.status.success());
    assert!(
        text(&output).contains(env!("CARGO_PKG_VERSION")),
        "{}",
        text(&output)
    );
    let output = binary().arg("--help").output().unwrap();
    let help = text(&output);
    assert!(output.status.success());
    for flag in [
        "--nodes",
        "--seed",
        "--tick-ms",
        "--paused",
        "--no-color",
        "Examples:",
        "run demos/",
    ] {
        assert!(help.contains(flag), "--help mentions {flag}: {help}");
    }
    let output = binary().args(["--tick-ms", "0"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
}

#[test]
fn json_views_for_tools_print_compact_json_alone_on_standard_output() {
    let path = script(
        "json.txt",
        "# for jq\ncluster 3 seed 1\nwait leader\nstatus --json\nprogress --json\n",
    );
    let output = binary().arg("run").arg(&path).output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
    // Standard output holds JSON only, one document per line, as `| jq` needs;
    // the transcript (echo, narration, results) went to standard error.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let documents: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert_eq!(documents.len(), 2, "{stdout}");
    assert_eq!(documents[0]["nodes"].as_array().unwrap().len(), 3);
    assert!(documents[1]["followers"].is_array());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("» wait leader") && stderr.contains("for jq"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("status --json"),
        "no echo of a JSON line: {stderr}"
    );
}

#[test]
fn keep_going_stops_a_script_at_a_failed_setup_line() {
    let path = script(
        "setup.txt",
        "cluster 3 seed 1\nexpect term all == 4\ncluster 3 seed x\nwait leader\n",
    );
    let output = binary()
        .args(["run", "--keep-going"])
        .arg(&path)
        .output()
        .unwrap();
    let text = text(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains(":2: expected n1's term == 4"), "{text}");
    assert!(text.contains(":3: cluster: expected a seed"), "{text}");
    assert!(
        text.contains("a failed setup line ends this script"),
        "{text}"
    );
    assert!(!text.contains("» wait leader"), "{text}");
    assert!(text.contains("2 failures"), "{text}");
}

#[test]
fn run_step_waits_for_enter_at_each_narration() {
    use std::io::Write;
    use std::process::Stdio;
    let path = script(
        "step.txt",
        "# one\ncluster 3 seed 1\n# two\n# still two\ntick 1\n",
    );
    let mut child = binary()
        .args(["run", "--step"])
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"\n\n").unwrap();
    let output = child.wait_with_output().unwrap();
    let text = text(&output);
    assert!(output.status.success(), "{text}");
    // One pause per block of narration, before the command that follows it.
    assert_eq!(text.matches("(Enter to go on)").count(), 2, "{text}");
    let pause = text.find("(Enter to go on)").unwrap();
    assert!(
        text[..pause].contains("one") && !text[..pause].contains("» cluster"),
        "{text}"
    );
    let output = binary().args(["run", "--step", "-"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(self::text(&output).contains("must be a file"));
}

#[test]
fn source_runs_a_script_into_the_session() {
    let inner = script(
        "inner.txt",
        "# set up\nwait leader\nsubmit set x 1\nwait commit 1 on all\n",
    );
    let outer = script(
        "outer.txt",
        &format!(
            "cluster 3 seed 1\nsource {}\nexpect kv all x 1\n",
            inner.display()
        ),
    );
    let output = binary().arg("run").arg(&outer).output().unwrap();
    let text = text(&output);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("  set up") && text.contains("  » submit set x 1"),
        "{text}"
    );
    // A failure inside says where, and fails the line that sourced it.
    let failing = script("failing.txt", "wait leader\nexpect term all == 9\n");
    let outer = script(
        "outer-fails.txt",
        &format!("cluster 3 seed 1\nsource {}\n", failing.display()),
    );
    let output = binary().arg("run").arg(&outer).output().unwrap();
    let text = self::text(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("failing.txt:2: expected n1's term == 9"),
        "{text}"
    );
    // A script that sources itself stops after a few levels.
    let looping = std::env::temp_dir()
        .join(format!("raft-playground-demos-{}", std::process::id()))
        .join("loop.txt");
    std::fs::write(&looping, format!("source {}\n", looping.display())).unwrap();
    let output = binary().arg("run").arg(&looping).output().unwrap();
    assert!(
        self::text(&output).contains("nest more than 8 deep"),
        "{}",
        self::text(&output)
    );
}
