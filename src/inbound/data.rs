//! The message text after `DATA` (RFC 5321 4.1.1.4): dot-unstuffed, and ended only by
//! `<CRLF>.<CRLF>`, exactly, however the bytes arrive.
//!
//! Anything else that looks like an end (`<LF>.<LF>`, `<CRLF>.<CR><CR><LF>`, `<CRLF>.<LF>`)
//! stays inside the message: a server that ended DATA there, behind a front MTA that does not,
//! would read the rest of the message as a second one from the same session (the SMTP
//! smuggling of 2023). Our own scan rather than `smtp-proto`'s, which ends DATA after any run
//! of CRs before the LF.

/// Where the scan stands between two bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// Inside a line.
    Text,
    /// After a CR inside a line.
    Cr,
    /// At the start of a line (after CRLF, or the first byte of the message).
    LineStart,
    /// After a dot at the start of a line.
    Dot,
    /// After `.` CR at the start of a line.
    DotCr,
}

/// Reads one message's data, from as many reads as it takes.
#[derive(Debug)]
pub struct DataReader {
    at: At,
}

impl Default for DataReader {
    fn default() -> Self {
        DataReader { at: At::LineStart }
    }
}

impl DataReader {
    /// Takes bytes from `input` into `message` until the end of the data, and says whether it
    /// was reached; what follows it is left in `input` (pipelined commands). The final CRLF
    /// before the dot belongs to the message.
    pub fn ingest(&mut self, input: &mut std::slice::Iter<'_, u8>, message: &mut Vec<u8>) -> bool {
        for &b in input.by_ref() {
            self.at = match (self.at, b) {
                (At::LineStart, b'.') => At::Dot,
                (At::Dot, b'\r') => At::DotCr,
                (At::DotCr, b'\n') => {
                    self.at = At::LineStart;
                    return true;
                }
                // A line that starts with a dot and has more on it: the dot was stuffed.
                (At::DotCr, b'\r') => {
                    message.push(b'\r');
                    At::Cr
                }
                (At::DotCr, other) => {
                    message.extend_from_slice(&[b'\r', other]);
                    At::Text
                }
                (At::Cr, b'\n') => {
                    message.push(b'\n');
                    At::LineStart
                }
                (_, b'\r') => {
                    message.push(b'\r');
                    At::Cr
                }
                (_, other) => {
                    message.push(other);
                    At::Text
                }
            };
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message and what is left after it, with the input cut into pieces of `segment`
    /// bytes; `None` when the data does not end.
    fn read(input: &[u8], segment: usize) -> Option<(Vec<u8>, Vec<u8>)> {
        let mut reader = DataReader::default();
        let mut message = Vec::new();
        for (n, piece) in input.chunks(segment).enumerate() {
            let mut bytes = piece.iter();
            if reader.ingest(&mut bytes, &mut message) {
                let mut rest = bytes.as_slice().to_vec();
                for later in input.chunks(segment).skip(n + 1) {
                    rest.extend_from_slice(later);
                }
                return Some((message, rest));
            }
        }
        None
    }

    #[test]
    fn ends_at_crlf_dot_crlf_and_unstuffs_dots() {
        for segment in [1, 2, 3, 7, 1000] {
            let (message, rest) = read(
                b"Subject: x\r\n\r\n..hidden dot\r\n.\r\nMAIL FROM:<a@b>\r\n",
                segment,
            )
            .expect("ends");
            assert_eq!(message, b"Subject: x\r\n\r\n.hidden dot\r\n");
            assert_eq!(rest, b"MAIL FROM:<a@b>\r\n");
        }
    }

    #[test]
    fn an_empty_message_ends_at_once() {
        assert_eq!(read(b".\r\n", 1), Some((Vec::new(), Vec::new())));
    }

    /// The end-of-data forms of the SMTP smuggling research (SEC Consult, 2023) and its
    /// follow-ups: none of them ends the data, in any segmentation.
    #[test]
    fn smuggling_shapes_never_end_the_data() {
        for shape in [
            &b"\n.\n"[..],
            b"\n.\r\n",
            b"\r\n.\n",
            b"\r\n.\r",
            b"\r\n.\r\r\n",
            b"\r\n.\r\r\r\n",
            b"\r.\r\n",
            b"\r.\r",
            b"\n.\r",
            b"\r\n\x00.\r\n",
            b"\r\n.\x00\r\n",
        ] {
            let mut input = b"Subject: a\r\n\r\nfirst".to_vec();
            input.extend_from_slice(shape);
            input.extend_from_slice(
                b"MAIL FROM:<admin@bank.example>\r\nRCPT TO:<x@y>\r\nDATA\r\nsmuggled",
            );
            for segment in [1, 2, 7, 4096] {
                assert_eq!(
                    read(&input, segment),
                    None,
                    "{shape:?} in {segment}-byte pieces"
                );
            }
            input.extend_from_slice(b"\r\n.\r\n");
            let (message, rest) = read(&input, 7).expect("the real end ends it");
            assert!(message.ends_with(b"smuggled\r\n"), "{shape:?}");
            assert!(rest.is_empty());
        }
    }

    #[test]
    fn bare_line_ends_and_carriage_returns_are_kept_as_they_came() {
        let (message, _) = read(b"a\rb\nc\r\r\nd\r\n.\r\n", 1).expect("ends");
        assert_eq!(message, b"a\rb\nc\r\r\nd\r\n");
    }
}
