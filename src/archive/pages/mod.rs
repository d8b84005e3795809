//! One askama template per page, the view data they show, and the page texts in Finnish and
//! English.

mod feed;
mod lists;
mod search;
mod texts;
mod thread;
mod unsubscribe;

pub(super) use feed::feed;
pub(super) use lists::{index, provider};
pub(super) use search::search;
pub(super) use thread::thread;
pub(super) use unsubscribe::unsubscribe;
