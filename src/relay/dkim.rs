//! DKIM signing of everything we send, so receivers can trust mail from our domain, and the
//! key generation behind `nonono dkim-keygen`.

use std::path::Path;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mail_auth::common::crypto::{RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::{DkimSigner, Done};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;

use crate::config::Config;

/// The headers we sign: what a reader sees and what threads the conversation.
const SIGNED_HEADERS: &[&str] = &[
    "From",
    "Reply-To",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Auto-Submitted",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
];

/// Signs outbound mail as `d=DOMAIN; s=SELECTOR`.
pub struct Signer {
    signer: DkimSigner<RsaKey<Sha256>, Done>,
}

/// Why the configured key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("outbound.dkim_key {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "outbound.dkim_key {path}: not an RSA private key in PEM ({reason}); `nonono dkim-keygen` writes one"
    )]
    Format { path: String, reason: String },
}

impl Signer {
    /// The signer `[outbound] dkim_key` and `dkim_selector` ask for, if any.
    pub fn from_config(config: &Config) -> Result<Option<Signer>, KeyError> {
        let Some(path) = config.dkim_key_path() else {
            return Ok(None);
        };
        let shown = path.display().to_string();
        let pem = std::fs::read(&path).map_err(|source| KeyError::Read {
            path: shown.clone(),
            source,
        })?;
        let format = |reason: String| KeyError::Format {
            path: shown.clone(),
            reason,
        };
        let der = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| format(e.to_string()))?;
        let key = RsaKey::<Sha256>::from_key_der(der).map_err(|e| format(e.to_string()))?;
        let signer = DkimSigner::from_key(key)
            .domain(config.domain.clone())
            .selector(config.outbound.dkim_selector.clone())
            .headers(SIGNED_HEADERS.iter().copied());
        Ok(Some(Signer { signer }))
    }

    /// The message with a `DKIM-Signature` header in front. A message that cannot be signed
    /// goes unsigned rather than not at all.
    pub fn sign(&self, raw: &[u8]) -> Vec<u8> {
        match self.signer.sign(raw) {
            Ok(signature) => {
                let mut signed = unfolded_end(&signature.to_header()).into_bytes();
                signed.extend_from_slice(raw);
                signed
            }
            Err(e) => {
                tracing::warn!("dkim: not signed: {e}");
                raw.to_vec()
            }
        }
    }
}

/// The header without a fold between the `b=` value and its closing `;`. mail-auth folds
/// there when the value fills its last line, but hashed the header with `b=` empty and so no
/// fold; verifiers that keep the whitespace after the removed value (dkimpy, and the milters
/// built on it) then reject every such signature.
fn unfolded_end(header: &str) -> String {
    match header.strip_suffix(";\r\n") {
        Some(head) => format!("{};\r\n", head.trim_end_matches([' ', '\t', '\r', '\n'])),
        None => header.to_owned(),
    }
}

/// A new RSA-2048 key: the private key as PEM, and the TXT record that publishes it.
pub struct NewKey {
    pub private_pem: String,
    /// `v=DKIM1; k=rsa; p=...`
    pub record: String,
}

/// Generates a signing key. RSA-2048, because many receivers still ignore Ed25519-only keys.
pub fn generate() -> anyhow::Result<NewKey> {
    let pair = KeyPair::generate(KeySize::Rsa2048)
        .map_err(|_| anyhow::anyhow!("generating an RSA key failed"))?;
    let private = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair)
        .map_err(|_| anyhow::anyhow!("encoding the private key failed"))?;
    let body = STANDARD.encode(private.as_ref());
    let mut private_pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        private_pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        private_pem.push('\n');
    }
    private_pem.push_str("-----END PRIVATE KEY-----\n");
    Ok(NewKey {
        private_pem,
        record: record_of(&pair)?,
    })
}

/// The TXT record that publishes the public half of `pair`.
fn record_of(pair: &KeyPair) -> anyhow::Result<String> {
    let public = AsDer::<aws_lc_rs::encoding::PublicKeyX509Der>::as_der(pair.public_key())
        .map_err(|_| anyhow::anyhow!("encoding the public key failed"))?;
    Ok(format!(
        "v=DKIM1; k=rsa; p={}",
        STANDARD.encode(public.as_ref())
    ))
}

/// The TXT record of the RSA key in PEM at `path` (PKCS#8 or PKCS#1), for a key that exists
/// already: moved from another machine, or its record lost.
pub fn existing_record(path: &Path) -> anyhow::Result<String> {
    let pem = std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let not_rsa = |why: String| {
        anyhow::anyhow!(
            "{}: not an RSA private key in PEM ({why}); `nonono dkim-keygen` writes one",
            path.display()
        )
    };
    let pair = match PrivateKeyDer::from_pem_slice(&pem).map_err(|e| not_rsa(e.to_string()))? {
        PrivateKeyDer::Pkcs8(der) => KeyPair::from_pkcs8(der.secret_pkcs8_der()),
        PrivateKeyDer::Pkcs1(der) => KeyPair::from_der(der.secret_pkcs1_der()),
        _ => return Err(not_rsa("not RSA".into())),
    }
    .map_err(|e| not_rsa(e.to_string()))?;
    record_of(&pair)
}

/// Writes a new key to `path` (never over an existing one, readable by the owner only) and
/// returns its TXT record.
pub fn write_new_key(path: &Path) -> anyhow::Result<String> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let key = generate()?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    file.write_all(key.private_pem.as_bytes())?;
    file.sync_all()?;
    Ok(key.record)
}

#[cfg(test)]
mod tests {
    use super::unfolded_end;

    #[test]
    fn no_fold_stands_before_the_closing_semicolon() {
        assert_eq!(
            unfolded_end("DKIM-Signature: v=1; b=abc\r\n\t  ;\r\n"),
            "DKIM-Signature: v=1; b=abc;\r\n"
        );
        let unfolded = "DKIM-Signature: v=1; b=a\r\n\tbc;\r\n";
        assert_eq!(unfolded_end(unfolded), unfolded, "folds inside b= stay");
    }
}
