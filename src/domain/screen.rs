//! Domain core: personal data that must not be published without the writer's word. Finds
//! Finnish personal identity codes (checksum-validated), IBANs (mod 97), card numbers (Luhn)
//! and phone numbers, so feedback carrying one is held until its writer confirms.

use std::sync::LazyLock;

use regex::Regex;

/// A kind of personal data found in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Personal {
    IdentityCode,
    Iban,
    CardNumber,
    PhoneNumber,
}

// ASCII only (`(?-u)`): every character these look for is ASCII once the text is made
// comparable, and with Unicode word boundaries the regex crate runs its slowest engine, which
// took ~8 ms per 50 KB message. Between groups of digits a writer may put up to three of
// space, tab, line break, dot, slash, comma, colon or dash.
static IDENTITY_CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?-u)(?i)\b(\d{2})\.?(\d{2})\.?(\d{2})\s{0,2}([+\-A-FU-Y])\s{0,2}(\d{3})([0-9A-Y])\b",
    )
    .expect("hetu regex")
});
static IBAN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,3})?\b")
        .expect("iban regex")
});
static CARD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u)\b\d(?:[\s./,:-]{0,3}\d){12,18}\b").expect("card regex"));
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    // Groups apart by spaces, slashes or dashes, `+358 (0)40`; a number spelt a digit at a
    // time; dots only in a number's shape that no date has (checked after: see `is_date`).
    Regex::new(
        r"(?-u)(?:\+358\s?(?:\(0\))?|\b00358|\b0)[\s/-]?\(?[1-9]\d{0,2}\)?(?:[\s/-]{0,3}\d{2,4}){2,3}\b|\b0(?:\s\d){8,12}\b|(?:\+358 ?|\b00358 ?|\b0)\d{1,2}\.\d{2,4}\.\d{2,4}(?:\.\d{2,4})?\b",
    )
    .expect("phone regex")
});

/// `dd.mm.yyyy` or `dd.mm.yy`: a date, not a phone number.
fn is_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    matches!(parts.as_slice(), [d, m, y]
        if d.parse::<u32>().is_ok_and(|d| (1..=31).contains(&d))
            && m.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
            && matches!(y.len(), 2 | 4))
}

/// The ASCII digit a character stands for, if it is a digit of another script, a full-width,
/// mathematical, superscript or subscript one.
fn digit(c: char) -> Option<char> {
    const ZEROS: &[u32] = &[
        0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
        0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x2080, 0xFF10,
        0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6,
    ];
    let code = c as u32;
    let value = match c {
        '\u{2070}' => 0,
        '\u{B9}' => 1,
        '\u{B2}' => 2,
        '\u{B3}' => 3,
        '\u{2074}'..='\u{2079}' => code - 0x2070,
        _ => ZEROS
            .iter()
            .find(|&&zero| (zero..zero + 10).contains(&code))
            .map(|zero| code - zero)?,
    };
    char::from_digit(value, 10)
}

/// The text as the patterns read it: characters that look like ASCII digits, letters, spaces
/// and dashes become them, and invisible ones go. `4111 1111 1111 1111` with no-break or
/// zero-width spaces, digits of another script or an en dash in an identity code looked the
/// same to a reader and was published.
fn comparable(text: &str) -> std::borrow::Cow<'_, str> {
    if text.is_ascii() {
        return text.into();
    }
    text.chars()
        .filter(|&c| !crate::mail::is_invisible(c))
        .map(|c| match c {
            c if c.is_ascii() => c,
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' => '-',
            c if c.is_whitespace() => ' ',
            c => digit(c).unwrap_or(c),
        })
        .collect::<String>()
        .into()
}

/// Every kind of personal data in a text, each once, in a fixed order.
pub fn personal_data(text: &str) -> Vec<Personal> {
    let text = &comparable(text);
    let mut found = Vec::new();
    // Found by the regex's fast automaton first: splitting into groups is many times slower,
    // and worth it only on the rare candidate.
    if IDENTITY_CODE.find_iter(text).any(|m| {
        IDENTITY_CODE
            .captures(m.as_str())
            .is_some_and(|c| valid_identity_code(&c))
    }) {
        found.push(Personal::IdentityCode);
    }
    if IBAN.find_iter(text).any(|m| valid_iban(m.as_str())) {
        found.push(Personal::Iban);
    }
    // The digits of an account number are no card or phone number.
    let text = IBAN.replace_all(text, " ");
    if CARD.find_iter(&text).any(|m| luhn(m.as_str())) {
        found.push(Personal::CardNumber);
    }
    if PHONE.find_iter(&text).any(|m| {
        let digits = m.as_str().chars().filter(char::is_ascii_digit).count();
        (8..=13).contains(&digits) && !is_date(m.as_str())
    }) {
        found.push(Personal::PhoneNumber);
    }
    found
}

fn valid_identity_code(c: &regex::Captures<'_>) -> bool {
    const CHECK: &[u8; 31] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";
    let (day, month) = (
        c[1].parse::<u32>().unwrap_or(0),
        c[2].parse::<u32>().unwrap_or(0),
    );
    if !(1..=31).contains(&day) || !(1..=12).contains(&month) {
        return false;
    }
    let number: u64 = format!("{}{}{}{}", &c[1], &c[2], &c[3], &c[5])
        .parse()
        .unwrap_or(0);
    let expected = CHECK[(number % 31) as usize] as char;
    c[6].eq_ignore_ascii_case(&expected.to_string())
}

fn valid_iban(candidate: &str) -> bool {
    let compact: String = candidate.chars().filter(|c| !c.is_whitespace()).collect();
    if !(15..=34).contains(&compact.len()) {
        return false;
    }
    let rearranged = format!("{}{}", &compact[4..], &compact[..4]);
    let mut remainder = 0u32;
    for c in rearranged.chars() {
        let value = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        for digit in value.to_string().chars() {
            remainder = (remainder * 10 + digit.to_digit(10).unwrap_or(0)) % 97;
        }
    }
    remainder == 1
}

fn luhn(candidate: &str) -> bool {
    let digits: Vec<u32> = candidate.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) || digits.iter().all(|&d| d == digits[0]) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_valid_personal_data_only() {
        // 131052-308T is the example code of the Finnish Digital and Population Data Services Agency.
        assert_eq!(
            personal_data("Hetuni on 131052-308T."),
            vec![Personal::IdentityCode]
        );
        assert_eq!(personal_data("131052-308U ei kelpaa"), vec![]);
        assert_eq!(
            personal_data("Tili FI21 1234 5600 0007 85"),
            vec![Personal::Iban]
        );
        assert_eq!(personal_data("Tili FI21 1234 5600 0007 86"), vec![]);
        assert_eq!(
            personal_data("Kortti 4111 1111 1111 1111"),
            vec![Personal::CardNumber]
        );
        assert_eq!(personal_data("Tilaus 4111 1111 1111 1112"), vec![]);
        assert_eq!(
            personal_data("Soita 040 123 4567"),
            vec![Personal::PhoneNumber]
        );
        assert_eq!(
            personal_data("Soita +358 40 1234567"),
            vec![Personal::PhoneNumber]
        );
    }

    #[test]
    fn ordinary_feedback_has_none() {
        let text =
            "Lasku 23.11.2026 oli 49,90 €, tilausnumero 123456. Jonotin 40 minuuttia klo 10.15.";
        assert_eq!(personal_data(text), vec![]);
        assert_eq!(
            personal_data("Toimitus 05.12.2026 klo 08.30, tilaus 04.12."),
            vec![]
        );
    }

    /// Helper's finding: formats a reader takes for the same number were published.
    #[test]
    fn numbers_written_in_other_shapes_are_found_too() {
        for (text, kind) in [
            ("Kortti 4111.1111.1111.1111", Personal::CardNumber),
            ("Kortti 4111/1111/1111/1111", Personal::CardNumber),
            (
                "Kortti 4111\u{A0}1111\u{A0}1111\u{A0}1111",
                Personal::CardNumber,
            ),
            (
                "Kortti 4111\u{200B}1111\u{200B}1111\u{200B}1111",
                Personal::CardNumber,
            ),
            (
                "Kortti ４１１１ １１１１ １１１１ １１１１",
                Personal::CardNumber,
            ),
            ("Hetu 131052–308T", Personal::IdentityCode),
            ("Hetu １３１０５２-３０８Ｔ", Personal::IdentityCode),
            ("Soita 040.123.4567", Personal::PhoneNumber),
            ("Soita 040\u{202F}123\u{202F}4567", Personal::PhoneNumber),
            // The second round's shapes.
            ("Kortti 4111\t1111\n1111  1111", Personal::CardNumber),
            ("Kortti 4111 - 1111 - 1111 - 1111", Personal::CardNumber),
            ("Kortti 4111,1111,1111,1111", Personal::CardNumber),
            ("Kortti 4111:1111:1111:1111", Personal::CardNumber),
            (
                "Kortti 4111\u{200E}1111\u{200E}1111\u{200E}1111",
                Personal::CardNumber,
            ),
            (
                "Kortti \u{1D7D2}\u{1D7CF}\u{1D7CF}\u{1D7CF}\u{1D7CF}\u{1D7CF}\u{1D7CF}\u{1D7CF}\u{1D7CF}\u{1D7CF}\u{1D7CF}\u{1D7CF}\u{1D7CF}\u{1D7CF}\u{1D7CF}\u{1D7CF}",
                Personal::CardNumber,
            ),
            ("Kortti ٤١١١١١١١١١١١١١١١", Personal::CardNumber),
            ("Kortti ४१११११११११११११११", Personal::CardNumber),
            ("Hetu 131052 - 308T", Personal::IdentityCode),
            ("Hetu 13.10.52-308T", Personal::IdentityCode),
            ("Hetu 131052\u{200E}-308T", Personal::IdentityCode),
            ("Soita 040/123 4567", Personal::PhoneNumber),
            ("Soita +358 (0)40 123 4567", Personal::PhoneNumber),
            ("Soita 040\t123\t4567", Personal::PhoneNumber),
            ("Soita 09.123.4567", Personal::PhoneNumber),
            ("Soita 0 4 0 1 2 3 4 5 6 7", Personal::PhoneNumber),
            ("Soita ⁰⁴⁰ ¹²³ ⁴⁵⁶⁷", Personal::PhoneNumber),
            ("Tili FI21 1234\n5600 0007 85", Personal::Iban),
        ] {
            assert_eq!(personal_data(text), vec![kind], "{text}");
        }
    }
}
