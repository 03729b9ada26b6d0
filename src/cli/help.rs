//! `help` and `help COMMAND`, from the one table of commands ([`COMMANDS`]).

use colored::Colorize;

use super::command::{COMMANDS, FORMS, spec_of};
use super::error::ExecError;
use crate::cluster::action::SETTINGS;

/// `help` and `help COMMAND`.
pub fn help(topic: Option<&str>) -> Result<String, ExecError> {
    match topic {
        None => {
            let mut lines = vec![
                "Commands (help COMMAND for details). NODES: 3, n3, leader, followers, all, or a list like 1,2."
                    .bold()
                    .to_string(),
            ];
            let mut group = "";
            for spec in COMMANDS {
                if spec.group != group {
                    group = spec.group;
                    lines.push(format!("{}", group.cyan().bold()));
                }
                lines.push(format!("  {:<13} {}", spec.name.bold(), spec.summary));
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
                "{}\n  {}\n  example: {}",
                spec.usage.bold(),
                spec.summary,
                spec.example.green()
            );
            if spec.name == "set" {
                for setting in SETTINGS {
                    let name = format!("{} {}", setting.name, setting.value);
                    text.push_str(&format!("\n  {:<19} {}", name.bold(), setting.summary));
                }
            }
            // `expect` and `wait`: each form on its own line, with a line to copy.
            for form in FORMS.iter().filter(|form| form.command == spec.name) {
                text.push_str(&format!(
                    "\n  {}\n      e.g. {}",
                    form.usage.bold(),
                    form.example.green()
                ));
            }
            Ok(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_lists_the_digest_the_settings_and_each_setting() {
        let all = help(None).unwrap();
        assert!(all.contains("digest") && all.contains("set"), "{all}");
        let set = help(Some("set")).unwrap();
        for spec in SETTINGS {
            assert!(
                set.contains(spec.name) && set.contains(spec.summary),
                "{set}"
            );
        }
        let expect = help(Some("expect")).unwrap();
        assert!(expect.contains("expect digest HEX"), "{expect}");
        assert!(expect.contains("e.g. expect log 1,2 = 1 1 2"), "{expect}");
        let wait = help(Some("wait")).unwrap();
        assert!(wait.contains("wait term [NODES] OP N [within N]"), "{wait}");
        assert!(wait.contains("wait applied [NODES] INDEX"), "{wait}");
        assert!(
            wait.contains("e.g. wait applied all 3") || wait.contains("wait applied all 3"),
            "{wait}"
        );
    }

    #[test]
    fn help_says_time_travel_has_no_redo() {
        let all = help(None).unwrap();
        for name in ["undo", "rewind", "goto", "save"] {
            assert!(all.contains(name), "{all}");
            let one = help(Some(name)).unwrap();
            assert!(one.contains("example: "), "{one}");
        }
        for name in ["undo", "rewind", "goto"] {
            assert!(help(Some(name)).unwrap().contains("no redo"), "{name}");
        }
    }
}
