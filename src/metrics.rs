//! Counters the receiver keeps in memory, for `/metrics`. Everything else `/metrics` shows is
//! counted from the store, so it survives restarts.

use std::sync::atomic::{AtomicU64, Ordering};

/// Why the receiver refused something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// A recipient at another domain (relaying).
    Relay,
    /// An unknown local part or a bad token.
    UnknownRecipient,
    /// An abuse limit was reached.
    Limit,
    /// Too big for `SIZE`.
    TooBig,
    /// The store could not take the message (451).
    Store,
    /// Too many sessions at once, from everyone or from one address.
    Connections,
}

const REASONS: [(Refused, &str); 6] = [
    (Refused::Relay, "relay"),
    (Refused::UnknownRecipient, "unknown_recipient"),
    (Refused::Limit, "limit"),
    (Refused::TooBig, "too_big"),
    (Refused::Store, "store"),
    (Refused::Connections, "connections"),
];

/// The receiver's counters since start.
#[derive(Debug, Default)]
pub struct Metrics {
    accepted: AtomicU64,
    refused: [AtomicU64; 6],
    sessions: AtomicU64,
}

impl Metrics {
    /// A message was committed and answered 250.
    pub fn accepted(&self) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
    }

    /// Something was refused.
    pub fn refused(&self, why: Refused) {
        let i = REASONS.iter().position(|(r, _)| *r == why).unwrap_or(0);
        self.refused[i].fetch_add(1, Ordering::Relaxed);
    }

    /// A session began.
    pub fn session(&self) {
        self.sessions.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters in Prometheus text format.
    pub fn render(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = writeln!(
            out,
            "# HELP nonono_smtp_accepted_total Messages answered 250 since start."
        );
        let _ = writeln!(out, "# TYPE nonono_smtp_accepted_total counter");
        let _ = writeln!(
            out,
            "nonono_smtp_accepted_total {}",
            self.accepted.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP nonono_smtp_refused_total Refusals since start, by reason."
        );
        let _ = writeln!(out, "# TYPE nonono_smtp_refused_total counter");
        for (i, (_, name)) in REASONS.iter().enumerate() {
            let _ = writeln!(
                out,
                "nonono_smtp_refused_total{{reason=\"{name}\"}} {}",
                self.refused[i].load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP nonono_smtp_sessions_total SMTP sessions since start."
        );
        let _ = writeln!(out, "# TYPE nonono_smtp_sessions_total counter");
        let _ = writeln!(
            out,
            "nonono_smtp_sessions_total {}",
            self.sessions.load(Ordering::Relaxed)
        );
    }
}
