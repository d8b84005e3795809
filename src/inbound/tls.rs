//! STARTTLS: the certificate and key from the config.

use crate::config::Config;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;

/// The STARTTLS acceptor `[smtp] tls_cert` and `tls_key` ask for, if any.
pub fn tls_acceptor(config: &Config) -> Result<Option<TlsAcceptor>, TlsError> {
    let (Some(cert), Some(key)) = (&config.smtp.tls_cert, &config.smtp.tls_key) else {
        return Ok(None);
    };
    let (cert, key) = (config.data_dir.join(cert), config.data_dir.join(key));
    let chain = CertificateDer::pem_file_iter(&cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError::Pem {
            key: "smtp.tls_cert",
            path: cert.clone(),
            reason: e.to_string(),
        })?;
    let key = PrivateKeyDer::from_pem_file(&key).map_err(|e| TlsError::Pem {
        key: "smtp.tls_key",
        path: key.clone(),
        reason: e.to_string(),
    })?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let server = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
        .map_err(|e| TlsError::Config(e.to_string()))?;
    Ok(Some(TlsAcceptor::from(Arc::new(server))))
}

/// Why the STARTTLS certificate cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{key} {}: {reason}", .path.display())]
    Pem {
        key: &'static str,
        path: std::path::PathBuf,
        reason: String,
    },
    #[error("smtp.tls_cert, smtp.tls_key: {0}")]
    Config(String),
}
