//! Store fixtures for the unit tests of its modules.

use crate::mail::Envelope;

/// Feedback received from `from`.
pub(crate) fn envelope(from: &str) -> Envelope {
    Envelope {
        mail_from: from.into(),
        rcpt_to: vec!["palaute@nonono.localhost".into()],
        peer: "192.0.2.1".into(),
        helo: "h".into(),
    }
}
