//! Text as a reader sees it: who wrote it (the pseudonym), whether it shows anything, and
//! how long it may be.

/// How a writer appears in public, and their text without a pseudonym line.
///
/// A first line `Nimimerkki: X` or `Pseudonym: X` sets it; otherwise the From display name
/// shortened to first name and initial ("Matti M."); otherwise `neutral`.
pub fn pseudonym(text: &str, display_name: Option<&str>, neutral: &str) -> (String, String) {
    let trimmed = text.trim_start();
    let (first, rest) = trimmed.split_once('\n').unwrap_or((trimmed, ""));
    let first = first.trim();
    for prefix in ["nimimerkki:", "pseudonym:"] {
        let Some(name) = first
            .get(..prefix.len())
            .filter(|head| head.eq_ignore_ascii_case(prefix))
            .map(|_| first[prefix.len()..].trim())
        else {
            continue;
        };
        if !name.is_empty() {
            let name: String = name.chars().filter(|c| !c.is_control()).take(40).collect();
            return (name, rest.trim_start_matches(['\r', '\n']).to_owned());
        }
    }
    let from_name = display_name.and_then(|n| {
        let words: Vec<&str> = n
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|w| !w.is_empty() && !w.contains('@'))
            .collect();
        let (&first, rest) = words.split_first()?;
        let first: String = first
            .chars()
            .filter(|c| c.is_alphabetic() || *c == '-')
            .collect();
        if first.is_empty() {
            return None;
        }
        Some(
            match rest
                .last()
                .and_then(|w| w.chars().find(|c| c.is_alphabetic()))
            {
                Some(initial) => format!("{first} {}.", initial.to_uppercase()),
                None => first,
            },
        )
    });
    (
        from_name.unwrap_or_else(|| neutral.to_owned()),
        text.to_owned(),
    )
}

/// `text` whole when it has at most `limit` bytes; else its first `limit` bytes (cut at a
/// character) followed by `note`.
pub fn shortened<'t>(text: &'t str, limit: usize, note: &str) -> std::borrow::Cow<'t, str> {
    if text.len() <= limit {
        return text.into();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{note}", &text[..end]).into()
}

/// Whether a text shows anything: a character that is no space, no invisible or blank-looking
/// character (Braille blank, Hangul fillers) and no quote mark of a quoted line.
pub fn has_visible_text(text: &str) -> bool {
    text.chars().any(|c| {
        !c.is_whitespace()
            && !is_invisible(c)
            && !matches!(
                c,
                '>' | '\u{2800}' | '\u{3164}' | '\u{115F}' | '\u{1160}' | '\u{FFA0}'
            )
    })
}

/// A character no address is written with: a control, one that shows nothing, or U+FFFD (bytes
/// that were no UTF-8).
pub fn is_hidden_or_broken(c: char) -> bool {
    c.is_control() || is_invisible(c) || c == char::REPLACEMENT_CHARACTER
}

pub use crate::domain::names::is_invisible;

/// Mail text as every letter of ours is sent: lines over `width` characters broken at spaces,
/// the same for every template and for the words of the people we carry (as their own mail
/// client would have), a quoted or indented line's prefix repeated on its continuations. A
/// word longer than the line (a link) stays whole. Linear in the text: a prefix longer than a
/// quarter of the line is written once, not on every continuation (45,000 spaces before a
/// paragraph once made a 99 KB mail a 70 MB forward).
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / width);
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.chars().count() <= width {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let prefix_len = line
            .find(|c: char| c != '>' && c != ' ')
            .unwrap_or(line.len());
        let (mut prefix, rest) = line.split_at(prefix_len);
        let repeated = if prefix.chars().count() <= width / 4 {
            prefix
        } else {
            ""
        };
        // A list item's lines after its first hang under its text, not under its dash.
        let dash = ["- ", "* ", "• "]
            .iter()
            .find(|b| rest.starts_with(*b))
            .map(|b| b.trim_end());
        let hanging = match dash {
            Some(_) => format!("{repeated}  "),
            None => repeated.to_owned(),
        };
        let repeated = hanging.as_str();
        let room = width.saturating_sub(repeated.chars().count());
        let mut current = String::new();
        let mut current_len = 0;
        for word in rest.split(' ') {
            let len = word.chars().count();
            // A dash keeps its first word, however long.
            let alone = dash.is_some_and(|d| current == d);
            if current_len > 0 && current_len + 1 + len > room && !alone {
                out.push_str(prefix);
                out.push_str(&current);
                out.push('\n');
                prefix = repeated;
                current.clear();
                current_len = 0;
            }
            if current_len > 0 {
                current.push(' ');
                current_len += 1;
            }
            current.push_str(word);
            current_len += len;
        }
        out.push_str(prefix);
        out.push_str(&current);
        out.push('\n');
    }
    out.pop();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_stays_linear_whatever_the_indentation() {
        let text = format!("Hei.\n{}{}\n", " ".repeat(45_000), "a ".repeat(27_000));
        let wrapped = wrap(&text, 72);
        assert!(
            wrapped.len() < text.len() * 2,
            "{} from {}",
            wrapped.len(),
            text.len()
        );
        let quoted = format!("> > {}", "sana ".repeat(100));
        assert!(wrap(&quoted, 72).lines().all(|l| l.starts_with("> > ")));
    }

    #[test]
    fn long_lines_wrap_at_the_width_and_short_ones_and_links_stay() {
        let paragraph = "halusit seurata yritystä Elisa nononossa. Vahvista vastaamalla tähän viestiin: saat sen jälkeen päivittäin koosteen yrityksen uusista palautteista.";
        let link = format!("https://palaute.example.fi/{}", "a".repeat(90));
        let text = format!("Hei,\n\n{paragraph}\n> {paragraph}\n{link}\n");
        let wrapped = wrap(&text, 72);
        assert!(wrapped.starts_with("Hei,\n\nhalusit seurata"));
        assert!(wrapped.ends_with(&format!("{link}\n")));
        for line in wrapped.lines().filter(|l| !l.contains("https://")) {
            assert!(line.chars().count() <= 72, "{line}");
        }
        let quoted: Vec<&str> = wrapped.lines().filter(|l| l.starts_with("> ")).collect();
        assert!(quoted.len() >= 2, "{wrapped}");
        assert_eq!(
            wrapped.replace("\n> ", " ").replace('\n', " "),
            text.replace("\n> ", " ").replace('\n', " ")
        );
        assert_eq!(wrap("lyhyt\n", 72), "lyhyt\n");
        // A list item hangs under its text.
        let item = format!("  - {}", "sana ".repeat(30));
        let lines: Vec<String> = wrap(&item, 72).lines().map(str::to_owned).collect();
        assert!(lines[0].starts_with("  - sana"), "{lines:?}");
        assert!(
            lines[1..].iter().all(|l| l.starts_with("    sana")),
            "{lines:?}"
        );
        let long = format!("  - {} on liian pitkä", "L".repeat(80));
        assert!(
            wrap(&long, 72).starts_with("  - LLLL"),
            "{}",
            wrap(&long, 72)
        );
    }

    #[test]
    fn pseudonym_line_wins_then_display_name_then_neutral() {
        let (name, body) = pseudonym(
            "Nimimerkki: Tyytymätön\nLasku tuli kahdesti.",
            Some("Matti Meikäläinen"),
            "Nimetön",
        );
        assert_eq!(
            (name.as_str(), body.as_str()),
            ("Tyytymätön", "Lasku tuli kahdesti.")
        );
        assert_eq!(
            pseudonym("x", Some("Matti Meikäläinen"), "Nimetön").0,
            "Matti M."
        );
        assert_eq!(pseudonym("x", Some("Matti"), "Nimetön").0, "Matti");
        assert_eq!(
            pseudonym("x", Some("\"Virtanen, Liisa\""), "Nimetön").0,
            "Virtanen L."
        );
        assert_eq!(pseudonym("x", None, "Nimetön").0, "Nimetön");
        assert_eq!(pseudonym("x", Some("a@b.fi"), "Nimetön").0, "Nimetön");
    }
}
