//! What a delivery status notification (RFC 3464) says went wrong: its `Action`, `Status`
//! and `Diagnostic-Code`, for the operator to read in `nonono queue`.

/// Longest reason kept: a diagnostic is a server's sentence, not a document.
const REASON: usize = 300;

/// What a delivery status notification reports for its recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// `failed`, `delayed`, `delivered`, `relayed` or `expanded` (RFC 3464 2.3.3).
    pub action: String,
    pub status: String,
    pub diagnostic: Option<String>,
}

impl Report {
    /// Whether the mail is given up on. A report of a delay or of a delivery is no bounce;
    /// any other action is (`failed`, and what servers write instead: SendGrid's `expired`).
    pub fn failed(&self) -> bool {
        !["delayed", "delivered", "relayed", "expanded", "deliverable"]
            .iter()
            .any(|a| self.action.eq_ignore_ascii_case(a))
    }

    /// Whether the receiving server took it: delivered there, or relayed on by a server that
    /// reports no further (RFC 3464 2.3.3).
    pub fn delivered(&self) -> bool {
        ["delivered", "relayed", "expanded"]
            .iter()
            .any(|a| self.action.eq_ignore_ascii_case(a))
    }

    /// `failed 5.1.1: smtp; 550 5.1.1 User unknown`, at most [`REASON`] characters, no
    /// control characters.
    pub fn reason(&self) -> String {
        let mut reason = format!("{} {}", self.action, self.status);
        if let Some(diagnostic) = &self.diagnostic {
            reason.push_str(": ");
            reason.push_str(diagnostic);
        }
        reason
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(REASON)
            .collect()
    }
}

/// The report of a DSN in `raw`; `None` when it has no report part that reads as plain text
/// (then its subject must do).
pub fn read(raw: &[u8]) -> Option<Report> {
    let text = String::from_utf8_lossy(raw);
    let lower = text.to_ascii_lowercase();
    let start = lower
        .find("content-type: message/delivery-status")
        .or_else(|| lower.find("content-type: message/global-delivery-status"))?;
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text[start..].lines().skip(1) {
        if line.starts_with("--") {
            break;
        }
        if line.starts_with([' ', '\t']) {
            // A folded field goes on.
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    // The per-recipient fields come after the per-message ones: the last of each is the
    // recipient's.
    let field = |name: &str| {
        fields
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let action = field("action");
    let diagnostic = field("diagnostic-code");
    // Some servers (McAfee's) leave out Status: the diagnostic's reply code says as much.
    let status = match field("status") {
        Some(status) => status,
        None if action.is_some() => diagnostic
            .as_deref()
            .and_then(status_in)
            .unwrap_or_default(),
        None => return None,
    };
    Some(Report {
        status,
        action: action.unwrap_or_else(|| "failed".into()),
        diagnostic,
    })
}

/// The status a diagnostic's SMTP reply gives: its enhanced code (`5.1.1`), or its reply
/// code's class (`550` is `5.0.0`).
fn status_in(diagnostic: &str) -> Option<String> {
    let words = diagnostic.split(|c: char| c.is_whitespace() || c == ';');
    let mut code = None;
    for word in words {
        let digits: Vec<&str> = word.split('.').collect();
        if digits.len() == 3
            && digits
                .iter()
                .all(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        {
            return Some(word.to_owned());
        }
        if code.is_none() && word.len() == 3 && word.bytes().all(|b| b.is_ascii_digit()) {
            code = Some(format!("{}.0.0", &word[..1]));
        }
    }
    code
}

#[cfg(test)]
mod tests {
    use super::read;

    fn reason(raw: &[u8]) -> Option<String> {
        read(raw).map(|r| r.reason())
    }

    #[test]
    fn the_recipients_status_and_diagnostic_are_read() {
        let postfix = b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSorry.\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.elisa.example\r\nArrival-Date: Sun, 6 Dec 2026\r\n\r\nFinal-Recipient: rfc822; laskutus@elisa.example\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 <laskutus@elisa.example>:\r\n    Recipient address rejected: User unknown\r\n\r\n--b--\r\n";
        assert_eq!(
            reason(postfix).as_deref(),
            Some(
                "failed 5.1.1: smtp; 550 5.1.1 <laskutus@elisa.example>: Recipient address rejected: User unknown"
            )
        );
        let bare =
            b"Content-Type: message/delivery-status\r\n\r\nAction: delayed\r\nStatus: 4.4.1\r\n";
        assert_eq!(reason(bare).as_deref(), Some("delayed 4.4.1"));
        assert!(!read(bare).unwrap().failed(), "a delay is no failure");
        assert!(read(postfix).unwrap().failed());
        assert_eq!(reason(b"Subject: Out of office\r\n\r\nPoissa.\r\n"), None);
        let no_status = b"Content-Type: message/delivery-status\r\n\r\nAction: failed\r\nDiagnostic-Code: smtp; 550 Unknown user\r\n";
        assert_eq!(
            reason(no_status).as_deref(),
            Some("failed 5.0.0: smtp; 550 Unknown user")
        );
        let expired =
            b"Content-Type: message/delivery-status\r\n\r\nAction: expired\r\nStatus: 4.4.7\r\n";
        assert!(
            read(expired).unwrap().failed(),
            "given up on, whatever the word"
        );
        let long = format!(
            "Content-Type: message/delivery-status\r\n\r\nStatus: 5.0.0\r\nDiagnostic-Code: smtp; {}\r\n",
            "x".repeat(10_000)
        );
        assert!(reason(long.as_bytes()).unwrap().chars().count() <= 300);
    }
}
