//! The pipeline: from a committed raw message to threads, posts and outbox rows.
//!
//! It runs after `250`, from the journal: classify, parse, route, then apply everything in one
//! transaction that also marks the journal entry done. A crash anywhere leaves the entry pending,
//! and it is processed again from the start, so the pipeline is idempotent and resumes on restart.
//!
//! ```text
//! worker      the thread: batches from the intake, doorbell, watchdog, set-aside
//! context     what a handler works with (config, key, clock), and the pipeline's error
//! dispatch    one entry: read, then each recipient to its handler, in one transaction
//! message     the message being processed: its writer, its reply address, whether to hold it
//! announce    a thread going public: forward and acknowledgement
//! attachments files passed on privately with a person's mail, and what each side is told
//! feedback    new feedback: thread, forward, acknowledgement; company mail without a thread
//! consent     the writer confirms, declines or erases
//! desk        the company desk: claims for the operator, changes by signed mail
//! reply       replies to a thread's token, from either side
//! delivery    delivered, bounced, failed
//! follow, support, solved, remind, unregistered   the features on the clock and by mail
//! scheduler   work on the clock: reminders, digests, solved questions, what waited
//! registry    the companies in the store: declarations applied, changes, the live config
//! reprocess   re-derives published text after a parser change
//! auth        DKIM, SPF and DMARC of a sender, with the DNS they ask
//! outgoing    mail queued in the outbox; compose: a letter as RFC 5322; texts: its words
//! published   the text a page shows
//! ```

mod announce;
mod attachments;
pub mod auth;
pub mod compose;
mod consent;
mod context;
pub mod delivery;
pub mod desk;
mod dispatch;
mod feedback;
pub mod follow;
mod message;
mod outgoing;
mod published;
pub mod registry;
pub mod remind;
mod reply;
pub mod reprocess;
pub mod scheduler;
pub mod solved;
pub mod support;
pub mod texts;
pub mod unregistered;
mod worker;

pub use consent::{HELD_NEW_ADDRESS, HELD_PERSONAL_DATA};
pub use context::{Context, PipelineError};
pub use delivery::{delivered, delivery_failed};
pub use dispatch::process;
pub use published::{SENT_CONSIDERED, answer_text, feedback_text};
pub use reply::{NotTheCompany, company_speaks};
pub use worker::{Doorbell, Signals, run};
