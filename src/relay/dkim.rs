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
                let mut signed = signature.to_header().into_bytes();
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
    let public = AsDer::<aws_lc_rs::encoding::PublicKeyX509Der>::as_der(pair.public_key())
        .map_err(|_| anyhow::anyhow!("encoding the public key failed"))?;
    let body = STANDARD.encode(private.as_ref());
    let mut private_pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        private_pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        private_pem.push('\n');
    }
    private_pem.push_str("-----END PRIVATE KEY-----\n");
    Ok(NewKey {
        private_pem,
        record: format!("v=DKIM1; k=rsa; p={}", STANDARD.encode(public.as_ref())),
    })
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
