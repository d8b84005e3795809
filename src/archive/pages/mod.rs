//! One askama template per page, the view data they show, and the words of the pages in Finnish and
//! English.

mod feed;
mod lists;
mod method;
mod search;
mod thread;
mod unsubscribe;
mod words;

pub(super) use words::words;

pub(super) use feed::feed;
pub(super) use lists::{companies, index, provider};
pub(super) use method::method;
pub(super) use search::search;
pub(super) use thread::thread;
pub(super) use unsubscribe::unsubscribe;
