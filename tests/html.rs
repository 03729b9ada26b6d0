//! `export html` in a real browser: a page exported from a real scenario (the Figure 8
//! demo) is loaded in headless Chromium, which must report no console message, find
//! the page's own self-check passed, and take a screenshot that shows the lanes.
//!
//! Chromium is required: `.ci/run` installs Debian's `chromium` package when
//! `/usr/bin/chromium` is missing; without it this test fails and says so (set
//! `CHROMIUM` to use another binary).

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use raft_playground::Config;
use raft_playground::cli::{Session, parse};

fn chromium() -> PathBuf {
    let path = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.exists(),
        "{} is missing: install it (`apt-get install -y chromium`; .ci/run does) \
         or point CHROMIUM at a Chromium binary",
        path.display()
    );
    path
}

/// A fresh directory for this test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "raft-playground-html-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs demo `demo` with `export html FILE` at its end; returns the file.
fn export_demo(demo: &str, dir: &Path) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("demos")
        .join(demo);
    let page = dir.join("timeline.html");
    let mut script = std::fs::read_to_string(&source).unwrap();
    script.push_str(&format!("\nexport html {}\n", page.display()));
    let mut session = Session::scripted(Config::new(5));
    let mut said = String::new();
    for line in script.lines() {
        if let Some(command) = parse(line).unwrap_or_else(|error| panic!("{demo}: {line}: {error}"))
        {
            let output = session
                .execute(command)
                .unwrap_or_else(|error| panic!("{demo}: {line}: {error}"));
            said = output.text;
        }
    }
    assert!(said.contains("wrote"), "{said}");
    page
}

/// Runs headless Chromium on `page` with `arguments`, for at most a minute.
fn run_chromium(dir: &Path, page: &Path, arguments: &[&str]) -> Output {
    let profile = dir.join(format!("profile-{}", arguments.len()));
    let mut command = Command::new(chromium());
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            // No network at all: the page must not need it.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(arguments)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().expect("chromium starts");
    let id = child.id();
    // A watchdog: a hung browser fails the test instead of hanging it.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = done.clone();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if flag.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill").arg("-9").arg(id.to_string()).status();
    });
    let output = child.wait_with_output().expect("chromium runs");
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    output
}

/// The console messages Chromium logged (`CONSOLE` lines on its standard error).
fn console_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|line| line.contains("CONSOLE") || line.contains("Uncaught"))
        .map(str::to_string)
        .collect()
}

#[test]
fn an_exported_timeline_renders_in_headless_chromium() {
    let dir = scratch("figure-8");
    let page = export_demo("05-figure-8.txt", &dir);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.len() > 10_000, "a real page: {} bytes", html.len());

    // The page's script ran, checked its own drawing and found it right.
    let dom = run_chromium(&dir, &page, &["--dump-dom", "--virtual-time-budget=5000"]);
    let text = String::from_utf8_lossy(&dom.stdout);
    assert!(
        text.contains("data-verdict=\"pass\""),
        "the page's self-check did not pass:\n{}\n{}",
        text.lines()
            .find(|line| line.contains("verdict"))
            .unwrap_or("(no verdict in the DOM)"),
        String::from_utf8_lossy(&dom.stderr)
    );
    assert!(text.contains("self-check passed: 5 lanes"), "{text}");
    let console = console_lines(&dom);
    assert!(console.is_empty(), "console messages: {console:#?}");

    // A screenshot: a real picture, with lanes in the leader's green and messages.
    let shot = dir.join("timeline.png");
    let output = run_chromium(
        &dir,
        &page,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1400,900",
            "--hide-scrollbars",
        ],
    );
    assert!(
        shot.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        console_lines(&output).is_empty(),
        "{:#?}",
        console_lines(&output)
    );
    let decoder = png::Decoder::new(BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a sane size")];
    let info = reader.next_frame(&mut pixels).expect("a PNG frame");
    assert_eq!((info.width, info.height), (1400, 900));
    let channels = info.line_size / info.width as usize;
    let colors: std::collections::HashSet<&[u8]> = pixels[..info.buffer_size()]
        .chunks(channels)
        .map(|pixel| &pixel[..3])
        .collect();
    assert!(
        colors.len() > 50,
        "not one flat color: {} colors",
        colors.len()
    );
    // The leader's lane color (#1e9e4a) and the entries' arrows (#1f6fd1) are drawn.
    let has = |rgb: [u8; 3]| colors.iter().any(|pixel| pixel[..] == rgb[..]);
    assert!(has([0x1e, 0x9e, 0x4a]), "a leader's lane is drawn");
    assert!(has([0x1f, 0x6f, 0xd1]), "an AppendEntries arrow is drawn");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_page_that_fails_its_self_check_is_caught() {
    // Planted: data in a format the page does not know, a role it cannot draw, and a
    // console message.
    let dir = scratch("planted");
    let page = export_demo("01-first-election.txt", &dir);
    let html = std::fs::read_to_string(&page).unwrap();
    let broken = html
        .replacen(
            "raft-playground timeline 1",
            "raft-playground timeline 0",
            1,
        )
        .replacen("\"role\":\"follower\"", "\"role\":\"folower\"", 1)
        .replacen(
            "\"use strict\";",
            "\"use strict\"; console.error(\"planted\");",
            1,
        );
    assert_ne!(broken, html, "the planted change applies");
    std::fs::write(&page, broken).unwrap();
    let dom = run_chromium(&dir, &page, &["--dump-dom", "--virtual-time-budget=5000"]);
    let text = String::from_utf8_lossy(&dom.stdout);
    assert!(text.contains("data-verdict=\"fail\""), "{text}");
    assert!(
        text.contains("unknown format raft-playground timeline 0"),
        "{text}"
    );
    assert!(text.contains("has an unknown role folower"), "{text}");
    let console = console_lines(&dom);
    assert!(
        console.iter().any(|line| line.contains("planted")),
        "the console check sees messages: {console:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
