//! Counters the receiver keeps in memory, for `/metrics`. Everything else `/metrics` shows is
//! counted from the store, so it survives restarts.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Why the receiver refused something. The order is that of [`REASONS`].
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

/// The `reason` label of each [`Refused`], in its order.
const REASONS: [&str; 6] = [
    "relay",
    "unknown_recipient",
    "limit",
    "too_big",
    "store",
    "connections",
];

/// The receiver's counters since start.
#[derive(Debug, Default)]
pub struct Metrics {
    accepted: AtomicU64,
    refused: [AtomicU64; 6],
    sessions: AtomicU64,
    /// Messages accepted and not yet processed by the pipeline: what flow control watches.
    backlog: AtomicI64,
}

impl Metrics {
    /// A message was committed and answered 250.
    pub fn accepted(&self) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
        self.backlog.fetch_add(1, Ordering::Relaxed);
    }

    /// What the pipeline found pending at start.
    pub fn set_backlog(&self, pending: i64) {
        self.backlog.store(pending, Ordering::Relaxed);
    }

    /// The pipeline finished `n` messages. Never below nothing: entries put back in line by
    /// the operator (`nonono held release`) were not counted in.
    pub fn processed(&self, n: usize) {
        let _ = self
            .backlog
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                Some((b - n as i64).max(0))
            });
    }

    /// Messages accepted and not yet processed.
    pub fn backlog(&self) -> i64 {
        self.backlog.load(Ordering::Relaxed)
    }

    /// Something was refused.
    pub fn refused(&self, why: Refused) {
        self.refused[why as usize].fetch_add(1, Ordering::Relaxed);
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
        for (i, name) in REASONS.iter().enumerate() {
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
        let _ = writeln!(
            out,
            "# HELP nonono_pipeline_backlog Messages accepted and not yet processed; above 10000 new messages wait (flow control)."
        );
        let _ = writeln!(out, "# TYPE nonono_pipeline_backlog gauge");
        let _ = writeln!(out, "nonono_pipeline_backlog {}", self.backlog());
    }
}
