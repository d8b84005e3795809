//! Short phrases in a reader's language, kept in the `words.*.toml` files under `templates/`
//! beside the longer texts, so a translator finds every word in one place. A phrase may have
//! named blanks (`{days}`) because word order differs between languages.

use std::sync::LazyLock;

use serde::de::DeserializeOwned;

use crate::config::Language;

/// A phrase book in each language of the service, each read on first use.
pub struct Books<T> {
    fi: LazyLock<T>,
    sv: LazyLock<T>,
    en: LazyLock<T>,
}

impl<T> Books<T> {
    /// The books `fi`, `sv` and `en` read (each a [`book`] call).
    pub const fn new(fi: fn() -> T, sv: fn() -> T, en: fn() -> T) -> Books<T> {
        Books {
            fi: LazyLock::new(fi),
            sv: LazyLock::new(sv),
            en: LazyLock::new(en),
        }
    }

    /// The book of `lang`.
    pub fn get(&self, lang: Language) -> &T {
        match lang {
            Language::Fi => &self.fi,
            Language::Sv => &self.sv,
            Language::En => &self.en,
        }
    }
}

/// Reads a phrase book written into the binary. Its keys are checked against the type when
/// the book is first used, and every book's unit test uses it, so a missing or misspelled key
/// fails the tests, not a page.
pub fn book<T: DeserializeOwned>(name: &str, text: &str) -> T {
    toml::from_str(text).unwrap_or_else(|e| panic!("phrase book {name}: {e}"))
}

/// Fills the named blanks of a phrase in one pass; a blank without a value stays as written.
pub fn fill(phrase: &str, blanks: &[(&str, &dyn std::fmt::Display)]) -> String {
    let mut out = String::with_capacity(phrase.len() + 16);
    let mut rest = phrase;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            let (_, value) = blanks.iter().find(|(n, _)| *n == name)?;
            Some((close, value))
        });
        match value {
            Some((close, value)) => {
                out.push_str(&value.to_string());
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn blanks_are_filled_by_name_in_any_order() {
        assert_eq!(
            fill("Vastattu {after} kuluttua", &[("after", &"3 h")]),
            "Vastattu 3 h kuluttua"
        );
        assert_eq!(
            fill("{n}/{of} {n}", &[("of", &3), ("n", &1)]),
            "1/3 1",
            "a blank may come twice"
        );
        assert_eq!(
            fill("{unknown} {", &[("n", &1)]),
            "{unknown} {",
            "what is not a blank stays"
        );
        assert_eq!(
            fill("{a}", &[("a", &"{a}")]),
            "{a}",
            "a value is not read again"
        );
    }
}
