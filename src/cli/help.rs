//! `help` and `help COMMAND`, from the one table of commands ([`COMMANDS`]).

use colored::Colorize;

use super::command::{COMMANDS, FORMS, spec_of};
use super::error::ExecError;
use super::render::{visible_width, wrap_words};
use crate::cluster::action::SETTINGS;

/// `help` and `help COMMAND`, in lines of at most `width` columns (summaries and
/// usages wrap under themselves; an example stays whole, to copy).
pub fn help(topic: Option<&str>, width: usize) -> Result<String, ExecError> {
    match topic {
        None => {
            let mut lines: Vec<String> = wrap_words(
                "Commands (help COMMAND for details). NODES: 3, n3, leader, followers, all, or a list like 1,2.",
                width,
                width,
            )
            .iter()
            .map(|line| line.bold().to_string())
            .collect();
            let mut group = "";
            for spec in COMMANDS {
                if spec.group != group {
                    group = spec.group;
                    lines.push(format!("{}", group.cyan().bold()));
                }
                let name = format!("  {:<13} ", spec.name);
                lines.push(hanging(&name, spec.summary, width).replacen(
                    spec.name,
                    &spec.name.bold().to_string(),
                    1,
                ));
            }
            lines.push(
                "Lines starting with # are comments (narration in scripts)."
                    .dimmed()
                    .to_string(),
            );
            Ok(lines.join("\n"))
        }
        Some(name) => {
            let spec = spec_of(name).ok_or_else(|| {
                let names: Vec<&str> = COMMANDS.iter().map(|spec| spec.name).collect();
                ExecError::Invalid(format!(
                    "no command `{name}`; commands are: {}",
                    names.join(", ")
                ))
            })?;
            let mut text = format!(
                "{}\n{}\n  example: {}",
                usage_lines(spec.usage, "", width),
                hanging("  ", spec.summary, width),
                spec.example.green()
            );
            if spec.name == "set" {
                let names: Vec<String> = SETTINGS
                    .iter()
                    .map(|setting| format!("{} {}", setting.name, setting.value))
                    .collect();
                let column = names.iter().map(String::len).max().unwrap_or(0);
                for (setting, name) in SETTINGS.iter().zip(names) {
                    let lead = format!("  {name:<column$} ");
                    let line = hanging(&lead, setting.summary, width);
                    text.push_str(&format!(
                        "\n{}",
                        line.replacen(&name, &name.bold().to_string(), 1)
                    ));
                }
            }
            // `expect` and `wait`: each form on its own line, with a line to copy.
            for form in FORMS.iter().filter(|form| form.command == spec.name) {
                text.push_str(&format!(
                    "\n{}\n      e.g. {}",
                    usage_lines(form.usage, "  ", width),
                    form.example.green()
                ));
            }
            Ok(text)
        }
    }
}

/// `lead` (plain), then `text` wrapped to `width` with its later lines under its
/// first word.
fn hanging(lead: &str, text: &str, width: usize) -> String {
    let indent = visible_width(lead);
    let room = width.saturating_sub(indent).max(20);
    let lines = wrap_words(text, room, room);
    format!("{lead}{}", lines.join(&format!("\n{}", " ".repeat(indent))))
}

/// A usage after `lead`, bold, wrapped to `width`; later lines indented two more.
fn usage_lines(usage: &str, lead: &str, width: usize) -> String {
    let indent = visible_width(lead);
    let first = width.saturating_sub(indent).max(20);
    let lines = wrap_words(usage, first, first.saturating_sub(2).max(20));
    lines
        .iter()
        .enumerate()
        .map(|(number, line)| {
            let lead = if number == 0 {
                lead.to_string()
            } else {
                " ".repeat(indent + 2)
            };
            format!("{lead}{}", line.bold())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_lists_the_digest_the_settings_and_each_setting() {
        let all = help(None, 80).unwrap();
        assert!(all.contains("digest") && all.contains("set"), "{all}");
        let set = help(Some("set"), 80).unwrap();
        // Summaries wrap: compare with every run of spaces and newlines as one space.
        let flat = set.split_whitespace().collect::<Vec<_>>().join(" ");
        for spec in SETTINGS {
            assert!(
                flat.contains(spec.name) && flat.contains(spec.summary),
                "{set}"
            );
        }
        let expect = help(Some("expect"), 80).unwrap();
        assert!(expect.contains("expect digest HEX"), "{expect}");
        assert!(expect.contains("e.g. expect log 1,2 = 1 1 2"), "{expect}");
        let wait = help(Some("wait"), 80).unwrap();
        assert!(wait.contains("wait term [NODES] OP N [within N]"), "{wait}");
        assert!(wait.contains("wait applied [NODES] INDEX"), "{wait}");
        assert!(wait.contains("e.g. wait applied all 3"), "{wait}");
    }

    #[test]
    fn help_fits_the_width_it_is_given() {
        // Widths are counted without color escapes, so colors on or off alike.
        let topics = std::iter::once(None).chain(COMMANDS.iter().map(|spec| Some(spec.name)));
        for width in [60, 80, 120] {
            for topic in topics.clone() {
                let text = help(topic, width).unwrap();
                for line in text.lines() {
                    // Only an example (kept whole, to copy) may be wider.
                    assert!(
                        visible_width(line) <= width
                            || line.contains("e.g. ")
                            || line.contains("example: "),
                        "help {topic:?} at {width}: {line:?} is {} wide",
                        visible_width(line)
                    );
                }
            }
        }
        // Wide terminals get long lines: the summary of `cluster` is one line at 120.
        let wide = help(None, 120).unwrap();
        assert!(
            wide.lines().any(|line| line.starts_with("  cluster")
                && line.ends_with("each starts with K committed entries")),
            "{wide}"
        );
        // A wrapped summary continues under its first word.
        let narrow = help(None, 80).unwrap();
        let at = narrow.find("  events").unwrap();
        let next = narrow[at..].lines().nth(1).unwrap();
        assert!(
            next.starts_with(&" ".repeat(16)) && !next.starts_with(&" ".repeat(17)),
            "{next:?}"
        );
    }

    #[test]
    fn help_says_time_travel_has_no_redo() {
        let all = help(None, 80).unwrap();
        for name in ["undo", "rewind", "goto", "save"] {
            assert!(all.contains(name), "{all}");
            let one = help(Some(name), 80).unwrap();
            assert!(one.contains("example: "), "{one}");
        }
        for name in ["undo", "rewind", "goto"] {
            assert!(help(Some(name), 80).unwrap().contains("no redo"), "{name}");
        }
    }
}
