//! What secures the connection to the smarthost: TLS from the first byte or after `STARTTLS`,
//! the certificate checked against the system's CAs (and `tls_ca`) and for the host we asked
//! for, and the credentials to authenticate with.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{CryptoProvider, aws_lc_rs};
use tokio_rustls::rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::config::{Config, OutboundTls};

/// The environment variable with the smarthost password when no file is configured.
pub const PASSWORD_VARIABLE: &str = "NONONO_SMTP_PASSWORD";

/// How connections to the smarthost are secured and authenticated.
pub struct Security {
    pub(super) mode: OutboundTls,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    pub(super) credentials: Option<Credentials>,
}

/// Why the smarthost's security cannot be set up as configured.
#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    #[error("outbound.tls_ca {path}: {reason}")]
    Ca { path: String, reason: String },
    #[error(
        "outbound.smtp_host {0:?}: not a host name or address a certificate can be checked for"
    )]
    Name(String),
    #[error("outbound.auth_password_file {path}: {reason}")]
    PasswordFile { path: String, reason: String },
    #[error(
        "outbound.auth_user is set, but neither outbound.auth_password_file nor {PASSWORD_VARIABLE} gives its password"
    )]
    NoPassword,
    #[error("outbound TLS: {0}")]
    Tls(String),
    #[error("{}", .0.join("; "))]
    Several(Vec<String>),
}

/// A user and password for AUTH. The password is never shown: not in logs, not in errors.
pub struct Credentials {
    user: String,
    password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, password hidden)", self.user)
    }
}

impl Credentials {
    /// The initial response of AUTH PLAIN (RFC 4616): no authorization identity.
    pub(super) fn plain(&self) -> String {
        STANDARD.encode(format!("\0{}\0{}", self.user, self.password))
    }

    /// The user name, to say whose login was refused.
    pub(super) fn user(&self) -> &str {
        &self.user
    }

    /// The two answers of AUTH LOGIN: the user, then the password.
    pub(super) fn login(&self) -> [String; 2] {
        [STANDARD.encode(&self.user), STANDARD.encode(&self.password)]
    }
}

impl Security {
    /// Plain SMTP, no authentication.
    pub fn none() -> Security {
        Security {
            mode: OutboundTls::None,
            tls: None,
            credentials: None,
        }
    }

    /// What `[outbound]` asks for; reads `tls_ca` and the password now, so a mistake stops
    /// the start (and `check-config`), not the first delivery.
    pub fn from_config(config: &Config) -> Result<Security, SecurityError> {
        let out = &config.outbound;
        // Both files are read, so one run names what is wrong with both.
        let password = out.auth_user.as_ref().map(|_| password(config));
        let tls = match out.tls {
            OutboundTls::None => None,
            OutboundTls::Starttls | OutboundTls::Implicit => Some(client_config(config)),
        };
        let mut problems: Vec<String> = [
            password.as_ref().and_then(|p| p.as_ref().err()),
            tls.as_ref().and_then(|t| t.as_ref().err()),
        ]
        .into_iter()
        .flatten()
        .map(ToString::to_string)
        .collect();
        let name = ServerName::try_from(out.host().to_owned());
        if tls.is_some() && name.is_err() {
            problems.push(SecurityError::Name(out.smtp_host.clone()).to_string());
        }
        if !problems.is_empty() {
            return Err(SecurityError::Several(problems));
        }
        Ok(Security {
            mode: out.tls,
            tls: match (tls, name) {
                (Some(Ok(config)), Ok(name)) => Some((TlsConnector::from(Arc::new(config)), name)),
                _ => None,
            },
            credentials: match (&out.auth_user, password) {
                (Some(user), Some(Ok(password))) => Some(Credentials {
                    user: user.clone(),
                    password,
                }),
                _ => None,
            },
        })
    }

    /// `text` with every form of our password in it replaced, should a server have repeated
    /// our AUTH line: as AUTH PLAIN and LOGIN encode it, and as it is, whole or cut short.
    pub(super) fn hide_credentials(&self, text: &str) -> String {
        let Some(c) = &self.credentials else {
            return text.to_owned();
        };
        let [_, password] = c.login();
        [c.plain(), password, c.password.clone()]
            .iter()
            .fold(text.to_owned(), |text, secret| hide(&text, secret))
    }

    /// TLS over `tcp`, the certificate checked as configured.
    pub(super) async fn handshake(&self, tcp: TcpStream) -> std::io::Result<Stream> {
        let Some((connector, name)) = &self.tls else {
            return Ok(Stream::Plain(tcp));
        };
        let tls = connector.connect(name.clone(), tcp).await?;
        Ok(Stream::Tls(Box::new(tls)))
    }
}

/// `text` with each run of characters that begins as `secret` does (its first 8, or all of a
/// shorter one) hidden to the next space or quote: a server that cut our line short
/// still showed part of it.
fn hide(text: &str, secret: &str) -> String {
    let head: String = secret.chars().take(8).collect();
    if head.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(&head) {
        out.push_str(&rest[..at]);
        out.push_str("[hidden]");
        let run = rest[at..]
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'')
            .map_or(rest.len(), |end| at + end);
        rest = &rest[run..];
    }
    out.push_str(rest);
    out
}

/// The password: the first line of `auth_password_file`, or the environment variable.
fn password(config: &Config) -> Result<String, SecurityError> {
    match &config.outbound.auth_password_file {
        Some(file) => {
            let path = config.data_dir.join(file);
            let text = std::fs::read_to_string(&path).map_err(|e| SecurityError::PasswordFile {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            let first = text.lines().next().unwrap_or("").to_owned();
            if first.trim().is_empty() {
                return Err(SecurityError::PasswordFile {
                    path: path.display().to_string(),
                    reason: "its first line is empty".into(),
                });
            }
            Ok(first)
        }
        None => std::env::var(PASSWORD_VARIABLE)
            .ok()
            .filter(|p| !p.trim().is_empty())
            .ok_or(SecurityError::NoPassword),
    }
}

fn client_config(config: &Config) -> Result<ClientConfig, SecurityError> {
    let provider = Arc::new(aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| SecurityError::Tls(e.to_string()))?;
    if !config.outbound.tls_verify {
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth());
    }
    let mut roots = RootCertStore::empty();
    // Certificates of the system the store cannot read are skipped, as a mail server does.
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if let Some(file) = &config.outbound.tls_ca {
        let path = config.data_dir.join(file);
        let ca = |reason: String| SecurityError::Ca {
            path: path.display().to_string(),
            reason,
        };
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&path)
            .map_err(|e| ca(e.to_string()))?
            .collect::<Result<_, _>>()
            .map_err(|e| ca(e.to_string()))?;
        if certs.is_empty() {
            return Err(ca("no certificate in it".into()));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| ca(e.to_string()))?;
        }
    }
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

/// `tls_verify = false`: any certificate is taken (the connection is still encrypted, and its
/// handshake signatures still checked), for a smarthost on a network the operator trusts.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, tokio_rustls::rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, tokio_rustls::rustls::Error> {
        tokio_rustls::rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, tokio_rustls::rustls::Error> {
        tokio_rustls::rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A connection to the smarthost, in the clear or over TLS.
pub(super) enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_encoded_for_plain_and_login_and_never_shown() {
        let c = Credentials {
            user: "nonono".into(),
            password: "salasana".into(),
        };
        assert_eq!(c.plain(), STANDARD.encode("\0nonono\0salasana"));
        assert_eq!(
            c.login(),
            [STANDARD.encode("nonono"), STANDARD.encode("salasana")]
        );
        assert!(!format!("{c:?}").contains("salasana"));
    }

    #[test]
    fn a_server_repeating_our_login_shows_none_of_it() {
        let security = Security {
            mode: OutboundTls::Starttls,
            tls: None,
            credentials: Some(Credentials {
                user: "nonono".into(),
                password: "salasana-42".into(),
            }),
        };
        let plain = security.credentials.as_ref().unwrap().plain();
        let said = format!(
            "501 5.5.4 Syntax error in \"AUTH PLAIN {plain}\", cut: {} and salasana-42.",
            &plain[..14]
        );
        let hidden = security.hide_credentials(&said);
        assert!(!hidden.contains(&plain[..10]), "{hidden}");
        assert!(!hidden.contains("salasana"), "{hidden}");
        assert!(
            hidden.starts_with("501 5.5.4 Syntax error in \"AUTH PLAIN [hidden]\""),
            "{hidden}"
        );
    }
}
