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
    if problems.len() == MOST_UNREADABLE {
        problems.push(format!(
            "… and perhaps more: the first {MOST_UNREADABLE} are named; fix them and check again"
        ));
    }
    (None, problems)
}

/// The dotted name of the key whose value holds byte `at` (`smtp.listen`,
/// `providers[1].rules[0].route`), and where its line starts; `None` when no `key = value`
/// line is found at or above `at` in its table.
fn key_at(text: &str, at: usize) -> Option<(String, usize)> {
    // The key's line: this one, or for a value over several lines (an array), the nearest
    // line above that starts with a bare key and `=` (an `=` in a string or a comment is none).
    let mut line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
    let key = loop {
        let line = text[line_start..].lines().next().unwrap_or("").trim_start();
        if line.starts_with('[') && bare_key(line).is_none() {
            return None;
        }
        match bare_key(line) {
            Some(key) => break key,
            None if line_start == 0 => return None,
            None => line_start = text[..line_start - 1].rfind('\n').map_or(0, |n| n + 1),
        }
    };
    // The table the line is in: the last header above it, with the index of each array of
    // tables on its path (`[[providers.rules]]` under the second `[[providers]]` is
    // `providers[1].rules[n]`).
    let mut table = String::new();
    let mut arrays: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for line in text[..line_start].lines().map(str::trim) {
        let (name, array) =
            if let Some(name) = line.strip_prefix("[[").and_then(|l| l.split_once("]]")) {
                (name.0.trim(), true)
            } else if let Some(name) = line.strip_prefix('[').and_then(|l| l.split_once(']')) {
                (name.0.trim(), false)
            } else {
                continue;
            };
        if array {
            let n = arrays.get(name).map_or(0, |n| n + 1);
            // A new element starts its own nested arrays afresh.
            arrays.retain(|path, _| !path.starts_with(&format!("{name}.")));
            arrays.insert(name.to_owned(), n);
        }
        let mut path = String::new();
        table = name
            .split('.')
            .map(|part| {
                path = if path.is_empty() {
                    part.trim().to_owned()
                } else {
                    format!("{path}.{}", part.trim())
                };
                match arrays.get(&path) {
                    Some(n) => format!("{}[{n}]", part.trim()),
                    None => part.trim().to_owned(),
                }
            })
            .collect::<Vec<_>>()
            .join(".");
    }
    let name = if table.is_empty() {
        key.to_owned()
    } else {
        format!("{table}.{key}")
    };
    Some((name, line_start))
}

/// The key of a `key = value` line, when it starts with a bare key (letters, digits, `_`, `-`,
/// dotted).
fn bare_key(line: &str) -> Option<&str> {
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-. ".contains(c)))
    .then_some(key)
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
    fn keys_are_named_by_their_path_whatever_their_values_hold() {
        let text = "[[providers]]\nslug = \"a\"\n[[providers]]\nslug = \"b\"\n[[providers.rules]]\npattern = \"x\"\n[[providers.rules]]\nroute = 5\n[smtp]\nlisten = \"x\"\nmax_recipients = [\n  \"a=b\", # c = d\n]\n";
        let mut named: Vec<String> = Config::parse(text)
            .unwrap_err()
            .iter()
            .map(|p| p.split_once(": ").map_or(p.clone(), |k| k.0.to_owned()))
            .collect();
        named.sort();
        assert_eq!(
            named,
            ["providers[1].rules[1].route", "smtp.max_recipients"],
            "{named:?}"
        );
    }

    #[test]
    fn a_syntax_error_ends_the_reading() {
        let problems = Config::parse("domain = \"x.fi\nlanguage = 5\n").unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("line 1"), "{}", problems[0]);
    }
}
