//! How a company's answer reads: whether it is a template (nearly the same text the company
//! sent in other threads, once names and numbers are set aside) and whether it blames or
//! deflects. Domain core: no I/O.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

/// Answers this alike (Jaccard similarity of their word triples) are the same template.
const TEMPLATE_SIMILARITY: f64 = 0.8;
/// Shorter answers ("Kiitos palautteesta!") are alike by nature: not judged.
const MIN_WORDS: usize = 12;

/// The word triples of an answer, with names (capitalised words) and anything carrying a
/// digit (order numbers, dates, amounts) set aside, so that a filled-in template still matches.
pub fn shingles(text: &str) -> HashSet<[String; 3]> {
    let words: Vec<String> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty())
        .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
        .filter(|w| !w.chars().next().is_some_and(char::is_uppercase))
        .map(str::to_lowercase)
        .collect();
    if words.len() < MIN_WORDS {
        return HashSet::new();
    }
    words
        .windows(3)
        .map(|w| [w[0].clone(), w[1].clone(), w[2].clone()])
        .collect()
}

/// Whether two answers are the same template.
pub fn same_template(a: &HashSet<[String; 3]>, b: &HashSet<[String; 3]>) -> bool {
    if a.is_empty() || b.is_empty() {
        return false;
    }
    let shared = a.intersection(b).count();
    let union = a.len() + b.len() - shared;
    shared as f64 / union as f64 >= TEMPLATE_SIMILARITY
}

/// Phrases that put the problem back on the writer or deny the company's part, Finnish and
/// English. Such an answer is still published as written; the company is told privately.
static BLAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(emme vastaa|ei ole (meidän|yrityksemme) vastuulla(mme)?|me ei vastata|me ei vastuta|ei kuulu meille|(on|oli) (teidän|sinun) (oma )?(vastuullanne|vastuullasi|vikanne|vikasi)|asiakkaan (omalla )?vastuulla|not our (responsibility|fault|problem)|we are not responsible|we cannot be held responsible|(it is|it's|that is|that's) your (own )?(fault|responsibility))\b",
    )
    .expect("blame pattern")
});

/// The blaming phrase in an answer, if there is one.
pub fn blame(text: &str) -> Option<String> {
    BLAME.find(text).map(|m| m.as_str().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = "Hei Matti, kiitos palautteestasi. Olemme välittäneet asian \
        eteenpäin ja palaamme asiaan mahdollisimman pian. Tilausnumero 12345. \
        Ystävällisin terveisin asiakaspalvelu";

    #[test]
    fn a_filled_in_template_matches_and_a_personal_answer_does_not() {
        let other = TEMPLATE.replace("Matti", "Liisa").replace("12345", "99881");
        assert!(same_template(&shingles(TEMPLATE), &shingles(&other)));
        let personal = "Hei Matti, pahoittelut: kaksoisveloitus johtui meidän järjestelmävirheestä. \
            Palautamme toisen veloituksen tilillesi perjantaina, ja lisäsin laskullesi \
            hyvityksen vaivasta. Soita minulle suoraan, jos jokin jää epäselväksi.";
        assert!(!same_template(&shingles(TEMPLATE), &shingles(personal)));
        assert!(!same_template(
            &shingles("Kiitos palautteesta!"),
            &shingles("Kiitos palautteesta!")
        ));
    }

    #[test]
    fn blaming_phrases_are_found_in_both_languages() {
        assert_eq!(
            blame("Valitettavasti emme vastaa kuljetusliikkeen viivästyksistä.").as_deref(),
            Some("emme vastaa")
        );
        assert!(blame("Tämä ei ole meidän vastuullamme.").is_some());
        assert!(blame("Me ei vastuta tästä.").is_some());
        assert!(blame("Unfortunately this is not our responsibility.").is_some());
        assert!(blame("Pahoittelemme, korjaamme virheen ja vastaamme kuluista.").is_none());
    }
}
