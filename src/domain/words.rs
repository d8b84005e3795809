//! Short phrases in a reader's language, kept in the `words.*.toml` files under `templates/`
//! beside the longer texts, so a translator finds every word in one place. A phrase may have
//! named blanks (`{days}`) because word order differs between languages.

use serde::de::DeserializeOwned;

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
