//! Reading a configuration file: its TOML, then its values.

use std::path::{Path, PathBuf};

use super::keys::Config;

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Every key that does not read, each with its line and a caret under the value.
    #[error("{path}:\n{}", .problems.join("\n"))]
    Syntax {
        path: PathBuf,
        problems: Vec<String>,
    },
    #[error("{path}: {}", .problems.join("; "))]
    Invalid {
        path: PathBuf,
        problems: Vec<String>,
    },
}

/// The most keys one reading names; past them the file is more wrong than worth listing.
const MOST_UNREADABLE: usize = 30;

impl Config {
    /// Reads, parses and validates a config file: every key that does not read is named, and
    /// when all read, every bad value.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let (config, mut problems) = read(&text);
        match config {
            Some(config) if problems.is_empty() => {
                let problems = config.validate();
                if problems.is_empty() {
                    Ok(config)
                } else {
                    Err(ConfigError::Invalid {
                        path: path.to_owned(),
                        problems,
                    })
                }
            }
            // The keys that did not read are at their defaults now; the bad values of the
            // others are named too, so one pass fixes the file.
            Some(config) => {
                problems.extend(config.validate());
                Err(ConfigError::Syntax {
                    path: path.to_owned(),
                    problems,
                })
            }
            None => Err(ConfigError::Syntax {
                path: path.to_owned(),
                problems,
            }),
        }
    }

    /// Parses TOML text without validating values; on failure, every key that does not read.
    pub fn parse(text: &str) -> Result<Config, Vec<String>> {
        match read(text) {
            (Some(config), problems) if problems.is_empty() => Ok(config),
            (_, problems) => Err(problems),
        }
    }
}

/// The config `text` describes with every key that does not read left at its default, and
/// those keys, each with toml's own pointer to it. serde stops at the first: each found is
/// commented out and the text read again. A syntax error ends the reading (nothing after it
/// reads reliably), and so does a key that cannot be told (a table's header).
fn read(text: &str) -> (Option<Config>, Vec<String>) {
    let mut text = text.to_owned();
    let mut problems = Vec::new();
    for _ in 0..MOST_UNREADABLE {
        let e = match toml::from_str::<Config>(&text) {
            Ok(config) => return (Some(config), problems),
            Err(e) => e,
        };
        let shown = e.to_string();
        let key = e
            .span()
            .and_then(|span| Some((key_at(&text, span.start)?, span.end)));
        let Some(((name, from), value_end)) = key else {
            problems.push(shown);
            break;
        };
        problems.push(format!("{name}: {shown}"));
        if toml::from_str::<toml::Table>(&text).is_err() {
            break;
        }
        text = commented_out(&text, from, value_end);
    }
    (None, problems)
}

/// The dotted name of the key whose value holds byte `at` (`smtp.listen`,
/// `providers[1].routes`), and where its line starts; `None` when no `key = value` line is
/// found at or above `at` in its table.
fn key_at(text: &str, at: usize) -> Option<(String, usize)> {
    // The key's line: this one, or for a value over several lines (an array), the nearest
    // line above with `=`.
    let mut line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
    let key = loop {
        let line = text[line_start..].lines().next().unwrap_or("");
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') && !line.contains('=') {
            return None;
        }
        match line.split_once('=') {
            Some((key, _)) if !trimmed.starts_with('#') => break key.trim(),
            _ if line_start == 0 => return None,
            _ => line_start = text[..line_start - 1].rfind('\n').map_or(0, |n| n + 1),
        }
    };
    if key.is_empty() {
        return None;
    }
    let mut table = String::new();
    let mut arrays: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for line in text[..line_start].lines().map(str::trim) {
        if let Some(name) = line.strip_prefix("[[").and_then(|l| l.split_once("]]")) {
            let name = name.0.trim();
            let n = arrays.entry(name).and_modify(|n| *n += 1).or_insert(0);
            table = format!("{name}[{n}]");
        } else if let Some(name) = line.strip_prefix('[').and_then(|l| l.split_once(']')) {
            table = name.0.trim().to_owned();
        }
    }
    let name = if table.is_empty() {
        key.to_owned()
    } else {
        format!("{table}.{key}")
    };
    Some((name, line_start))
}

/// `text` with its key at `from` made a comment: its line and the lines after it up to the
/// end of the value, which ends where the rest reads as TOML again.
fn commented_out(text: &str, from: usize, value_end: usize) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    let first = text[..from].matches('\n').count();
    let mut last = text[..value_end.max(from)].matches('\n').count();
    loop {
        for line in &mut lines[first..=last] {
            if !line.starts_with("# ") {
                line.insert_str(0, "# ");
            }
        }
        let commented = lines.join("\n");
        if last + 1 >= lines.len() || toml::from_str::<toml::Table>(&commented).is_ok() {
            return commented;
        }
        last += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_that_does_not_read_is_named_with_where_it_is() {
        let text = "domain = \"x.fi\"\nlanguage = \"de\"\n[smtp]\nmax_message_bytes = \"big\"\n[[providers]]\nslug = \"a\"\nname = \"A\"\nroutes = [\"a@a.fi\"]\n[[providers]]\nslug = \"b\"\nname = \"B\"\nroutes = [\"b@b.fi\",\n  1]\nresponse_days = \"three\"\n";
        let problems = Config::parse(text).unwrap_err();
        let mut keys: Vec<&str> = problems
            .iter()
            .map(|p| p.split_once(": ").map_or(p.as_str(), |k| k.0))
            .collect();
        // serde meets the keys in its own order, not the file's.
        keys.sort();
        assert_eq!(
            keys,
            [
                "language",
                "providers[1].response_days",
                "providers[1].routes",
                "smtp.max_message_bytes",
            ],
            "{problems:#?}"
        );
        let bytes = problems.iter().find(|p| p.starts_with("smtp.")).unwrap();
        assert!(bytes.contains("line 4") && bytes.contains("^^^"), "{bytes}");
    }

    #[test]
    fn a_syntax_error_ends_the_reading() {
        let problems = Config::parse("domain = \"x.fi\nlanguage = 5\n").unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("line 1"), "{}", problems[0]);
    }
}
