//! Company names as writers spell them: compared without case, spacing, punctuation or
//! diacritics.

/// Lower-cased, diacritics removed, only letters and digits kept, as company tags are matched.
///
/// ```
/// assert_eq!(nonono::domain::names::fold("Kierrätys-keskus"), "kierratyskeskus");
/// ```
pub fn fold(s: &str) -> String {
    let mut folded = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        // Fullwidth forms (ＥＬＩＳＡ) are the ASCII they stand for.
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        };
        let base = match c {
            'ä' | 'à' | 'á' | 'â' | 'ã' | 'å' | 'ā' | 'ą' | 'ă' => "a",
            'ö' | 'ò' | 'ó' | 'ô' | 'õ' | 'ø' | 'ő' | 'ō' => "o",
            'ü' | 'ù' | 'ú' | 'û' | 'ű' | 'ů' | 'ū' => "u",
            'é' | 'è' | 'ê' | 'ë' | 'ę' | 'ě' | 'ē' => "e",
            'í' | 'ì' | 'î' | 'ï' | 'ı' | 'ī' => "i",
            'š' | 'ś' | 'ş' | 'ș' => "s",
            'ž' | 'ź' | 'ż' => "z",
            'ç' | 'č' | 'ć' => "c",
            'ñ' | 'ń' | 'ň' => "n",
            'ł' => "l",
            'ř' => "r",
            'ý' | 'ÿ' => "y",
            'ď' | 'đ' => "d",
            'ť' | 'ț' => "t",
            'ğ' => "g",
            'ß' => "ss",
            'æ' => "ae",
            'œ' => "oe",
            'þ' => "th",
            // Letters and digits stay; the rest (spaces, punctuation, combining marks, so
            // that an O written with a mark after it is an O) goes.
            c if c.is_alphanumeric() => {
                folded.push(c);
                continue;
            }
            _ => continue,
        };
        folded.push_str(base);
    }
    folded
}

/// Characters that show nothing: soft hyphens, zero-width spaces and joiners, word joiners,
/// direction marks and overrides.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// Whether `s` can be a company's slug: lowercase letters, digits and `-` (also its local part
/// `SLUG@DOMAIN`).
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
}

/// Whether a company's name or alias shows as it is written: no control characters (a
/// terminal obeys them, XML forbids them), no invisible ones (direction overrides reorder what
/// a page, a mail's From or the operator's listing shows; fillers show a blank), no
/// noncharacters, and something a tag matches.
pub fn is_shown_as_written(name: &str) -> bool {
    !name
        .chars()
        .any(|c| c.is_control() || is_invisible(c) || is_blank_or_unassigned(c))
        && !fold(name).is_empty()
}

/// Characters that show as nothing though they are no space, and those no text may carry.
fn is_blank_or_unassigned(c: char) -> bool {
    matches!(
        c,
        '\u{034F}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{2028}'..='\u{2029}'
            | '\u{2800}'
            | '\u{3164}'
            | '\u{FDD0}'..='\u{FDEF}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFFF}'
            | '\u{E0000}'..='\u{E0FFF}'
    ) || (c as u32 & 0xFFFE) == 0xFFFE
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Helper-9 registered names writers would type otherwise: decomposed (as macOS sends),
    /// fullwidth, or with letters beyond the Finnish ones.
    #[test]
    fn a_name_folds_as_writers_type_it() {
        for (a, b) in [
            ("Łódź Oy", "Lodz Oy"),
            ("\u{150}rseg", "O\u{30B}rseg"),
            ("ＦＷ Oy", "fw oy"),
            ("Straße", "Strasse"),
            ("Æble", "Aeble"),
            ("Kierrätys-keskus", "kierratyskeskus"),
        ] {
            assert_eq!(fold(a), fold(b), "{a} / {b}");
        }
    }

    #[test]
    fn names_that_show_as_nothing_or_break_a_page_are_not_as_written() {
        for name in [
            "\u{3164}",
            "Non\u{FFFF}Char",
            "Elisa\u{FE0F}",
            "E\u{E0041}lisa",
            "Eli\u{2028}sa",
            "Evil\u{1b}[31m",
            "!!!",
        ] {
            assert!(!is_shown_as_written(name), "{name:?}");
        }
        assert!(is_shown_as_written("Kierrätyskeskus Oy"));
        assert!(is_shown_as_written("Łódź & Syn"));
    }
}
