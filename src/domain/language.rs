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
    "this", "but", "you", "hello", "thanks", "thank", "i", "were", "would", "please", "twice",
    "received", "again", "after", "regards", "your", "from", "are", "be", "bill",
];

/// Endings of Finnish inflection (inessive, elative, adessive, ablative, plural persons,
/// past participles, the conditional): Finnish says most in words no list holds.
const FINNISH_ENDINGS: &[&str] = &[
    "ssa", "ssä", "sta", "stä", "lla", "llä", "lta", "ltä", "mme", "tte", "nut", "nyt", "isi",
    "ksi", "ään", "aan", "kaan", "kään",
];

/// Words looked at: a long text tells its language in its first few hundred words.
const WORDS_READ: usize = 400;

/// Lines that start what the writer did not write themselves: a signature, a phone's
/// footer, a disclaimer's usual opening.
const NOT_THEIRS: &[&str] = &[
    "--",
    "sent from my",
    "get outlook",
    "lähetetty",
    "skickat från",
    "this email and any",
    "this e-mail and any",
    "tämä viesti ja",
];

/// The language `text` is written in, when one of the service's languages leads clearly: at
/// least three of its common words, and twice as many as either other. Only the writer's own
/// lines count: quoted lines, and a signature or footer and what follows, do not.
pub fn detect(text: &str) -> Option<Language> {
    let mut counts = [0usize; 3];
    let own = text
        .lines()
        .map(str::trim)
        .take_while(|l| {
            // Only a line's start is compared: a 25 MB line is not lowercased whole.
            let start: String = l.chars().take(20).collect::<String>().to_lowercase();
            !NOT_THEIRS.iter().any(|not| start.starts_with(not))
        })
        .filter(|l| !l.starts_with('>'));
    let words = own
        .flat_map(|l| l.split(|c: char| !c.is_alphabetic()))
        .filter(|w| !w.is_empty())
        .take(WORDS_READ);
    for word in words {
        let word = word.to_lowercase();
        for (i, list) in [FINNISH, SWEDISH, ENGLISH].iter().enumerate() {
            if list.contains(&word.as_str()) {
                counts[i] += 1;
            }
        }
        if word.chars().count() >= 5 && FINNISH_ENDINGS.iter().any(|e| word.ends_with(e)) {
            counts[0] += 1;
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

    /// Found by breaking it (issue 21): Finnish mail answered in English.
    #[test]
    fn finnish_with_english_around_it_is_finnish() {
        for text in [
            "Me muutimme viime kuussa. Me ilmoitimme osoitteen. Me emme saaneet laskua. Me soitimme.",
            "Hei,\nsain saman laskun kahdesti. Korjatkaa.\n\nMatti\nSent from my iPhone\n\nThis email and any files transmitted with it are confidential and intended solely for the use of the individual.",
            "Hei, sain tällaisen vastauksen:\n\n> Thank you for contacting us. We have received your request and will get back to you as soon as possible.\n\nTämä ei auta.",
            "Invoice was sent to the wrong address\nHei, lasku tuli väärään osoitteeseen ja se on jo toisen kerran.",
            "Hei,\nsovellus näyttää virheen:\nError: the connection to the server was reset. Please try again. If the problem persists contact your administrator.\nKiitos, odotan että asia korjataan pian.",
        ] {
            assert_ne!(detect(text), Some(Language::En), "{text}");
        }
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
