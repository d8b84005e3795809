//! The one-click unsubscribe page of a company's digest.

use super::words::{Words, words};
use askama::Template;

use crate::config::Config;

/// `/u/TOKEN`: stop following a company. A GET only shows a button (mail scanners open links);
/// the POST, from the button or a mail client's one-click unsubscribe, does it.
#[derive(Template)]
#[template(path = "web/unsubscribe.html")]
pub struct UnsubscribePage {
    pub t: &'static Words,
    pub heading: &'static str,
    pub message: &'static str,
    pub token: String,
    pub show_button: bool,
}

/// The unsubscribe page: asking (`done` = `None`), or after the POST.
pub fn unsubscribe(config: &Config, token: String, done: Option<bool>) -> UnsubscribePage {
    let t = words(config.language);
    let (heading, message) = match done {
        None => (&t.unfollow, &t.unfollow_ask),
        Some(true) => (&t.unfollowed, &t.unfollowed_note),
        Some(false) => (&t.no_subscription, &t.no_subscription_note),
    };
    UnsubscribePage {
        t,
        heading,
        message,
        token,
        show_button: done.is_none(),
    }
}
