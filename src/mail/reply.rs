//! Extracting what a person wrote in a reply: our marker line, quoted history and signatures go.

/// The line at the top of every mail we send; a reply is cut where it survives.
pub const MARKER_FI: &str = "## Kirjoita vastauksesi tämän rivin yläpuolelle ##";
/// The English form of [`MARKER_FI`].
pub const MARKER_EN: &str = "## Reply above this line ##";

/// The answer a person wrote above the quoted history, and whether the cut was trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The text to publish.
    pub text: String,
    /// Text that was cut away (kept so a reader can expand it).
    pub trimmed: String,
}

/// Cuts quoted history and signature from a reply. Never returns an empty answer when the
/// message had text: if cutting would leave nothing, the whole text is kept.
pub fn extract_answer(text: &str) -> Answer {
    let lines: Vec<&str> = text.lines().collect();
    let cut = lines
        .iter()
        .position(|l| is_marker(l) || is_attribution(l) || is_original_message(l))
        .unwrap_or(lines.len());
    let mut kept: Vec<&str> = lines[..cut].to_vec();
    if let Some(sig) = kept.iter().rposition(|l| *l == "-- " || *l == "--") {
        kept.truncate(sig);
    }
    // A quoted block at the end is history; quotes in the middle are the writer's own.
    while kept
        .last()
        .is_some_and(|l| l.trim().is_empty() || l.starts_with('>'))
    {
        kept.pop();
    }
    let answer = kept.join("\n").trim().to_owned();
    if answer.is_empty() {
        return Answer {
            text: text.trim().to_owned(),
            trimmed: String::new(),
        };
    }
    let trimmed = lines[kept.len()..].join("\n").trim().to_owned();
    Answer {
        text: answer,
        trimmed,
    }
}

fn is_marker(line: &str) -> bool {
    let l = line.trim_start_matches(['>', ' ']);
    l.contains(MARKER_FI) || l.contains(MARKER_EN)
}

fn is_attribution(line: &str) -> bool {
    let l = line.trim();
    (l.starts_with("On ") && l.ends_with("wrote:"))
        || l.ends_with("kirjoitti:")
        || l.ends_with("skrev:")
        || l.ends_with("kirjutas:")
}

fn is_original_message(line: &str) -> bool {
    let l = line.trim().to_lowercase();
    l.starts_with("-----original message")
        || l.starts_with("-----alkuperäinen viesti")
        || l.starts_with("-------- alkuperäinen viesti")
        || l.starts_with("-------- original message")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_at_our_marker() {
        let text = format!("Kiitos palautteesta.\nKorjaamme laskun.\n\n> {MARKER_FI}\n> vanha\n");
        let a = extract_answer(&text);
        assert_eq!(a.text, "Kiitos palautteesta.\nKorjaamme laskun.");
        assert!(a.trimmed.contains("vanha"));
    }

    #[test]
    fn cuts_finnish_attribution_and_signature() {
        let text = "Hoidamme asian.\n-- \nAsiakaspalvelu\n\nma 23.11.2026 klo 20.00 Matti via nonono <t+x@n> kirjoitti:\n> Hei\n";
        assert_eq!(extract_answer(text).text, "Hoidamme asian.");
    }

    #[test]
    fn never_empty() {
        let text = "> only a quote\n";
        assert_eq!(extract_answer(text).text, "> only a quote");
    }
}
