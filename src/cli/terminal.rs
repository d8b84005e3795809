//! Text from strangers (senders, smarthosts) on the operator's terminal: no control
//! characters it would obey, no invisible ones that reorder what it shows.

use crate::mail;
// One line of a stranger's text: controls and line breaks become spaces.
use crate::mail::write::one_line;

/// `s` cut to at most `width` characters, for a column.
pub(super) fn clip(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_owned();
    }
    let mut cut: String = s.chars().take(width - 1).collect();
    cut.push('…');
    cut
}

/// One line of a stranger's text for the operator's terminal: no controls, and no invisible
/// characters (direction overrides would reorder what the listing shows: found from outside).
pub(super) fn for_terminal(text: &str) -> String {
    one_line(text).replace(mail::is_invisible, "\u{FFFD}")
}

/// A stranger's text with its lines, for the operator's terminal: the same, lines kept.
pub(super) fn text_for_terminal(text: &str) -> String {
    text.chars()
        .map(|c| {
            if (c.is_control() && c != '\n' && c != '\t') || mail::is_invisible(c) {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}
