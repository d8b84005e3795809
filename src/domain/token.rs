//! Tokens: the `TOKEN` in `PREFIX+TOKEN@DOMAIN`, one prefix a purpose ([`Purpose::prefix`]):
//! `t+` a reply address, `b+` the envelope sender of one outbound message (where its bounce
//! comes back), `c+`, `e+`, `s+`, `v+`, `f+`, `u+` and `p+` the writer's and readers' answers, `k+` a
//! company's "yes" to a change it asked of the desk.
//!
//! A reply token names one participant of one thread (the participant row knows its thread); a
//! bounce token names one outbox row. Each carries an HMAC, keyed by what it names, so nobody can
//! guess or alter one, nor use one kind as the other. Tokens use lowercase letters and digits only, because
//! some MTAs lower-case local parts: the participant id in base 36, then a fixed-length MAC in
//! base 32.

use aws_lc_rs::{constant_time, hmac};

/// Characters of MAC at the end of every token (16 × 5 = 80 bits).
const MAC_CHARS: usize = 16;
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// The secret that signs tokens; created once per installation and kept in `data_dir`.
#[derive(Clone)]
pub struct TokenKey(hmac::Key);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

/// What a token names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A participant of a thread (`t+`).
    Participant,
    /// An outbox row (`b+`).
    Bounce,
    /// A thread held for its writer's confirmation (`c+`).
    Confirm,
    /// A writer's request to erase what they wrote in a thread (`e+`, names the participant).
    Erase,
    /// A writer's word on whether the company solved their problem (`s+`, names the writer).
    Solved,
    /// A reader confirming their support of a thread (`v+`, names the support).
    Support,
    /// Someone confirming they follow a company (`f+`, names the follower).
    Follow,
    /// A follower leaving (`u+` by mail, `/u/TOKEN` on the web; names the follower).
    Unsubscribe,
    /// A writer saying publish a reply held for the personal data in it (`p+`, names the
    /// journal entry).
    Publish,
    /// A company's representative confirming a change they asked of the company desk (`k+`,
    /// for "kyllä"; names the request).
    DeskChange,
}

impl Purpose {
    const ALL: [Purpose; 10] = [
        Purpose::Participant,
        Purpose::Bounce,
        Purpose::Confirm,
        Purpose::Erase,
        Purpose::Solved,
        Purpose::Support,
        Purpose::Follow,
        Purpose::Unsubscribe,
        Purpose::Publish,
        Purpose::DeskChange,
    ];

    /// The local part's prefix of a token address of this purpose: the one table both writing
    /// and reading addresses go by.
    pub fn prefix(self) -> &'static str {
        match self {
            Purpose::Participant => "t+",
            Purpose::Bounce => "b+",
            Purpose::Confirm => "c+",
            Purpose::Erase => "e+",
            Purpose::Solved => "s+",
            Purpose::Support => "v+",
            Purpose::Follow => "f+",
            Purpose::Unsubscribe => "u+",
            Purpose::Publish => "p+",
            Purpose::DeskChange => "k+",
        }
    }
}

/// A local part that has a token prefix but a token that is not ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForgedToken;

impl TokenKey {
    /// The address `PREFIX+TOKEN@domain` that names `id` for `purpose`.
    pub fn address(&self, purpose: Purpose, id: i64, domain: &str) -> String {
        format!(
            "{}{}@{domain}",
            purpose.prefix(),
            self.issue_for(purpose, id)
        )
    }

    /// What a local part names when it is a token address: `None` when it has no token prefix,
    /// an error when its token is not one we issued.
    pub fn read(&self, local: &str) -> Option<Result<(Purpose, i64), ForgedToken>> {
        Purpose::ALL.into_iter().find_map(|purpose| {
            let token = local.strip_prefix(purpose.prefix())?;
            Some(
                self.verify_for(purpose, token)
                    .map(|id| (purpose, id))
                    .ok_or(ForgedToken),
            )
        })
    }

    /// A key from secret bytes.
    pub fn new(secret: &[u8]) -> Self {
        TokenKey(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    /// The token issued to participant `id`.
    pub fn issue(&self, id: i64) -> String {
        self.issue_for(Purpose::Participant, id)
    }

    /// The participant a token was issued to, or `None` when it was not issued by this key.
    pub fn verify(&self, token: &str) -> Option<i64> {
        self.verify_for(Purpose::Participant, token)
    }

    /// A token naming `id` for `purpose`.
    pub fn issue_for(&self, purpose: Purpose, id: i64) -> String {
        let mut token = to_base36(id as u64);
        token.push_str(&self.mac(purpose, &token));
        token
    }

    /// The id a token names for `purpose`, or `None` when this key did not issue it so.
    pub fn verify_for(&self, purpose: Purpose, token: &str) -> Option<i64> {
        let token = token.to_ascii_lowercase();
        // Tokens are ASCII; anything else (an SMTPUTF8 address) is no token of ours, and must
        // not be cut inside a character.
        if !token.is_ascii() || token.len() <= MAC_CHARS || token.len() > MAC_CHARS + 13 {
            return None;
        }
        let (id, mac) = token.split_at(token.len() - MAC_CHARS);
        constant_time::verify_slices_are_equal(self.mac(purpose, id).as_bytes(), mac.as_bytes())
            .ok()?;
        let id = u64::from_str_radix(id, 36).ok()?;
        i64::try_from(id).ok()
    }

    fn mac(&self, purpose: Purpose, id: &str) -> String {
        let label = match purpose {
            Purpose::Participant => "participant",
            Purpose::Bounce => "bounce",
            Purpose::Confirm => "confirm",
            Purpose::Erase => "erase",
            Purpose::Solved => "solved",
            Purpose::Support => "support",
            Purpose::Follow => "follow",
            Purpose::Unsubscribe => "unsubscribe",
            Purpose::Publish => "publish",
            Purpose::DeskChange => "desk-change",
        };
        let tag = hmac::sign(&self.0, format!("{label}:{id}").as_bytes());
        base32(&tag.as_ref()[..10])
    }
}

fn to_base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ascii")
}

/// Lowercase RFC 4648 base 32 without padding.
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inputs a fuzzer crashed on, kept in `fuzz/regressions/address/`, and their kind.
    #[test]
    fn non_ascii_tokens_are_refused_without_panicking() {
        let key = TokenKey::new(b"k");
        // 18 bytes: the cut between id and MAC (16 from the end) falls inside the first 'ä'.
        assert_eq!(key.verify(&format!("aää{}", "a".repeat(13))), None);
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/regressions/address");
        for entry in std::fs::read_dir(dir).unwrap() {
            let raw = std::fs::read(entry.unwrap().path()).unwrap();
            let text = String::from_utf8_lossy(&raw);
            for purpose in [
                Purpose::Participant,
                Purpose::Bounce,
                Purpose::Confirm,
                Purpose::Erase,
            ] {
                assert_eq!(key.verify_for(purpose, &text), None);
                assert_eq!(
                    key.verify_for(purpose, text.split('@').next().unwrap()),
                    None
                );
            }
        }
    }

    #[test]
    fn issued_tokens_verify_and_name_their_participant() {
        let key = TokenKey::new(b"secret");
        for id in [1, 35, 36, 123_456_789, i64::MAX] {
            let t = key.issue(id);
            assert!(
                t.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
                "{t}"
            );
            assert_eq!(key.verify(&t), Some(id));
            assert_eq!(
                key.verify(&t.to_ascii_uppercase()),
                Some(id),
                "MTAs may change case"
            );
        }
    }

    #[test]
    fn altered_or_foreign_tokens_fail() {
        let key = TokenKey::new(b"secret");
        let t = key.issue(42);
        let mut altered = t.clone().into_bytes();
        altered[0] = b'7';
        assert_eq!(key.verify(std::str::from_utf8(&altered).unwrap()), None);
        assert_eq!(TokenKey::new(b"other").verify(&t), None);
        assert_eq!(key.verify(""), None);
        assert_eq!(key.verify("abc"), None);
        assert_eq!(key.verify(&"z".repeat(40)), None);
    }

    #[test]
    fn a_token_of_one_purpose_is_not_valid_for_another() {
        let key = TokenKey::new(b"secret");
        let reply = key.issue(5);
        assert_eq!(key.verify_for(Purpose::Bounce, &reply), None);
        let bounce = key.issue_for(Purpose::Bounce, 5);
        assert_eq!(key.verify_for(Purpose::Bounce, &bounce), Some(5));
        assert_eq!(key.verify(&bounce), None);
    }

    #[test]
    fn base32_matches_rfc4648() {
        assert_eq!(base32(b"foobar"), "mzxw6ytboi");
        assert_eq!(base32(b"f"), "my");
    }

    /// One table writes and reads every kind of token address: each reads back as itself,
    /// and a token of one kind is no token of another.
    #[test]
    fn every_token_address_reads_back_as_what_it_names() {
        let key = TokenKey::new(b"0123456789abcdef0123456789abcdef");
        for purpose in Purpose::ALL {
            let address = key.address(purpose, 42, "nonono.localhost");
            let local = address.strip_suffix("@nonono.localhost").unwrap();
            assert_eq!(key.read(local), Some(Ok((purpose, 42))), "{address}");
            let other = Purpose::ALL.into_iter().find(|p| *p != purpose).unwrap();
            let swapped = format!("{}{}", other.prefix(), &local[purpose.prefix().len()..]);
            assert_eq!(key.read(&swapped), Some(Err(ForgedToken)), "{swapped}");
        }
        assert_eq!(key.read("palaute"), None);
        assert_eq!(key.read("tuki+12"), None);
    }
}
