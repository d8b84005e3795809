//! The one-click unsubscribe page of a company's digest.

use super::texts::{Texts, texts};
use askama::Template;

use crate::config::{Config, Language};

/// `/u/TOKEN`: stop following a company. A GET only shows a button (mail scanners open links);
/// the POST, from the button or a mail client's one-click unsubscribe, does it.
#[derive(Template)]
#[template(path = "web/unsubscribe.html")]
pub struct UnsubscribePage {
    pub t: &'static Texts,
    pub heading: &'static str,
    pub message: &'static str,
    pub button: &'static str,
    pub token: String,
    pub show_button: bool,
}

/// The unsubscribe page: asking (`done` = `None`), or after the POST.
pub fn unsubscribe(config: &Config, token: String, done: Option<bool>) -> UnsubscribePage {
    let fi = config.language == Language::Fi;
    let (heading, message) = match (fi, done) {
        (true, None) => (
            "Lopeta seuraaminen",
            "Et saa enää koosteita tästä yrityksestä, kun vahvistat.",
        ),
        (false, None) => (
            "Stop following",
            "You get no more digests about this company once you confirm.",
        ),
        (true, Some(true)) => (
            "Seuraaminen lopetettu",
            "Et saa enää koosteita tästä yrityksestä.",
        ),
        (false, Some(true)) => (
            "You stopped following",
            "You get no more digests about this company.",
        ),
        (true, Some(false)) => ("Ei tilausta", "Tällä linkillä ei ole (enää) tilausta."),
        (false, Some(false)) => (
            "No subscription",
            "This link has no subscription (any more).",
        ),
    };
    UnsubscribePage {
        t: texts(config.language),
        heading,
        message,
        button: if fi {
            "Lopeta seuraaminen"
        } else {
            "Stop following"
        },
        token,
        show_button: done.is_none(),
    }
}
