//! Domain core: which of the service's languages a person wrote in, so that what we send them
//! back (the acknowledgement, the answers relayed) is in their language.
//!
//! Counted by the short words every text has (Finnish `ja`, `ei`, `että`; Swedish `och`,
//! `att`, `inte`; English `the`, `and`, `not`): linear in the text, and only a clear lead
//! decides, so a one-word message or a mixed one leaves the service's language.

use crate::config::Language;

/// Words common in one language and not written in the other two.
const FINNISH: &[&str] = &[
    "ja",
    "ei",
    "että",
    "oli",
    "olen",
    "ole",
    "kun",
    "mutta",
    "tai",
    "myös",
    "minä",
    "minun",
    "sain",
    "kiitos",
    "hei",
    "vielä",
    "joka",
    "jo",
    "nyt",
    "kanssa",
    "koska",
    "tämä",
    "mitä",
    "olisi",
    "kuin",
    "vain",
    "siitä",
    "tilasin",
    "tuli",
    "kahdesti",
    "jälkeen",
    "asiakaspalvelu",
    "se",
    "ovat",
    "mikä",
    "miksi",
    "ystävällisin",
    "terveisin",
];
const SWEDISH: &[&str] = &[
    "och",
    "att",
    "det",
    "är",
    "som",
    "inte",
    "jag",
    "har",
    "med",
    "för",
    "av",
    "till",
    "om",
    "den",
    "ett",
    "men",
    "var",
    "hej",
    "tack",
    "kan",
    "vi",
    "ni",
    "min",
    "mitt",
    "mig",
    "fick",
    "två",
    "gånger",
    "eller",
    "också",
    "här",
    "efter",
    "hälsningar",
    "vänliga",
    "fakturan",
    "kundtjänst",
    "skulle",
    "när",
    "sedan",
];
const ENGLISH: &[&str] = &[
    "the", "and", "to", "of", "is", "it", "that", "was", "not", "my", "have", "with", "for",
    "this", "but", "you", "hello", "thanks", "thank", "i", "me", "were", "would", "please",
    "twice", "received", "again", "after", "regards", "your", "from", "are", "be", "bill",
];

/// Words looked at: a long text tells its language in its first few hundred words.
const WORDS_READ: usize = 400;

/// The language `text` is written in, when one of the service's languages leads clearly: at
/// least three of its common words, and twice as many as either other.
pub fn detect(text: &str) -> Option<Language> {
    let mut counts = [0usize; 3];
    let words = text
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .take(WORDS_READ);
    for word in words {
        let word = word.to_lowercase();
        for (i, list) in [FINNISH, SWEDISH, ENGLISH].iter().enumerate() {
            if list.contains(&word.as_str()) {
                counts[i] += 1;
            }
        }
    }
    let (best, &most) = counts.iter().enumerate().max_by_key(|&(_, n)| *n)?;
    let clear = most >= 3
        && counts
            .iter()
            .enumerate()
            .all(|(i, &n)| i == best || n * 2 < most);
    clear.then(|| [Language::Fi, Language::Sv, Language::En][best])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_language_is_told_from_ordinary_feedback() {
        assert_eq!(
            detect("Hei, sain marraskuun laskun kahdesti, ja molemmat veloitettiin tililtäni."),
            Some(Language::Fi)
        );
        assert_eq!(
            detect("Hej, fakturan för november kom två gånger och jag har betalat den redan."),
            Some(Language::Sv)
        );
        assert_eq!(
            detect("Hello, the November bill came twice and both were charged to my account."),
            Some(Language::En)
        );
    }

    #[test]
    fn too_little_or_too_mixed_decides_nothing() {
        assert_eq!(detect(""), None);
        assert_eq!(detect("Lasku"), None);
        assert_eq!(detect("ok thanks"), None);
        assert_eq!(detect("och the ja och the ja"), None);
    }

    #[test]
    fn a_huge_text_is_read_only_in_part() {
        let text = format!(
            "{} {}",
            "hej och tack ".repeat(200),
            "the and ".repeat(100_000)
        );
        assert_eq!(detect(&text), Some(Language::Sv));
    }
}
