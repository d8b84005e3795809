//! DKIM as a company's mail system signs: a key, the TXT record that publishes it, and
//! mail-auth's signer, so tests pin the record in `[trust] dns_records` and run offline.

use mail_auth::common::crypto::{RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;
use nonono::relay::dkim;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;

/// A signing key and the TXT record that publishes it.
pub struct Key {
    pem: String,
    pub record: String,
}

impl Key {
    pub fn new() -> Key {
        let k = dkim::generate().unwrap();
        Key {
            pem: k.private_pem,
            record: k.record,
        }
    }

    /// `raw` with a DKIM-Signature for `d=domain; s=s1` in front, made by mail-auth's signer.
    pub fn sign(&self, raw: &[u8], domain: &str) -> Vec<u8> {
        self.sign_headers(
            raw,
            domain,
            &["From", "To", "Subject", "Date", "Message-ID", "In-Reply-To"],
        )
    }

    /// [`Key::sign`] over these header fields only.
    pub fn sign_headers(&self, raw: &[u8], domain: &str, headers: &[&str]) -> Vec<u8> {
        let der = PrivateKeyDer::from_pem_slice(self.pem.as_bytes()).unwrap();
        let signer = DkimSigner::from_key(RsaKey::<Sha256>::from_key_der(der).unwrap())
            .domain(domain)
            .selector("s1")
            .headers(headers.iter().copied());
        let mut signed = signer.sign(raw).unwrap().to_header().into_bytes();
        signed.extend_from_slice(raw);
        signed
    }
}
