//! The domain core: the rules of the service as pure functions over values, no I/O. Everything
//! here is tested in memory; the pipeline, the receiver and the archive call it.

pub mod calendar;
pub mod desk;
pub mod language;
pub mod limits;
pub mod mailbox;
pub mod names;
pub mod relays;
pub mod route;
pub mod screen;
pub mod slots;
pub mod token;
pub mod tone;
pub mod txt_record;
pub mod words;
