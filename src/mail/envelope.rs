//! The SMTP envelope of a message: who handed it over, for whom, from where.

/// The envelope of one SMTP transaction, as the receiver saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    /// `MAIL FROM`; empty for the null sender `<>` that bounces use.
    pub mail_from: String,
    /// Every accepted `RCPT TO`, lower-cased.
    pub rcpt_to: Vec<String>,
    /// The client's IP address.
    pub peer: String,
    /// The name the client gave in EHLO/HELO.
    pub helo: String,
}
