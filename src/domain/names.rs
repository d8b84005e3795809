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
