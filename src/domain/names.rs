//! Company names as writers spell them: compared without case, spacing, punctuation or
//! diacritics.

/// Lower-cased, diacritics removed, only letters and digits kept, as company tags are matched.
///
/// ```
/// assert_eq!(nonono::domain::names::fold("Kierrätys-keskus"), "kierratyskeskus");
/// ```
pub fn fold(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .filter_map(|c| {
            let base = match c {
                'ä' | 'à' | 'á' | 'â' | 'ã' | 'å' | 'ā' => 'a',
                'ö' | 'ò' | 'ó' | 'ô' | 'õ' | 'ø' => 'o',
                'ü' | 'ù' | 'ú' | 'û' => 'u',
                'é' | 'è' | 'ê' | 'ë' => 'e',
                'í' | 'ì' | 'î' | 'ï' => 'i',
                'š' => 's',
                'ž' => 'z',
                'ç' => 'c',
                'ñ' => 'n',
                c => c,
            };
            base.is_alphanumeric().then_some(base)
        })
        .collect()
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

/// Whether a company's name or alias shows as it is written: no control characters (a
/// terminal obeys them, XML forbids them) and no invisible ones (direction overrides reorder
/// what a page, a mail's From or the operator's listing shows), and something a tag matches.
pub fn is_shown_as_written(name: &str) -> bool {
    !name.chars().any(|c| c.is_control() || is_invisible(c)) && !fold(name).is_empty()
}
