//! TLS settings: the CA to trust and the client certificate, read and validated at start-up.
//!
//! ureq builds its rustls configuration lazily, on the first request, and `expect`s on a client
//! key that does not match its certificate. Everything is therefore checked here, with the same
//! rustls and the same provider (ring), before ureq is handed anything: a bad file costs one
//! warning at start-up, never a panic later inside the push thread.

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig, TlsProvider};

use crate::config::var;
use crate::error::PushError;

/// The crypto provider of every TLS connection pushtimer makes (pure Rust + asm, no cmake).
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Which certificates the gateway's chain must lead to, and what we present.
#[derive(Clone, Default)]
pub(crate) struct TlsSettings {
    /// `None`: the Mozilla root program's CAs (webpki-roots). `Some`: exactly these CAs.
    roots: Option<Vec<Certificate<'static>>>,
    client: Option<ClientCert>,
}

impl std::fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSettings")
            .field("private_roots", &self.roots.as_ref().map(Vec::len))
            .field("client_cert", &self.client.is_some())
            .finish()
    }
}

impl TlsSettings {
    /// Trusts exactly the CA certificates in the PEM file at `path`.
    pub(crate) fn trust_ca_file(&mut self, path: &Path) -> Result<(), PushError> {
        let pem = read(var::CA_FILE, path)?;
        let certs = certificates(var::CA_FILE, path, &pem)?;
        let mut store = RootCertStore::empty();
        let (usable, _) = store.add_parsable_certificates(certs.iter().cloned());
        if usable == 0 {
            return Err(problem(
                var::CA_FILE,
                path,
                "holds no usable CA certificate",
            ));
        }
        self.roots = Some(
            certs
                .iter()
                .map(|der| Certificate::from_der(der).to_owned())
                .collect(),
        );
        Ok(())
    }

    /// Presents the certificate chain at `cert_path` with the key at `key_path` (PKCS#8,
    /// PKCS#1 or SEC1), after checking that the key belongs to the certificate.
    pub(crate) fn client_cert_files(
        &mut self,
        cert_path: &Path,
        key_path: &Path,
    ) -> Result<(), PushError> {
        let chain = certificates(
            var::CLIENT_CERT_FILE,
            cert_path,
            &read(var::CLIENT_CERT_FILE, cert_path)?,
        )?;
        let key_pem = read(var::CLIENT_KEY_FILE, key_path)?;
        let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
            problem(
                var::CLIENT_KEY_FILE,
                key_path,
                &format!("holds no PKCS#8, PKCS#1 or SEC1 private key ({e})"),
            )
        })?;
        CertifiedKey::from_der(chain.clone(), key.clone_key(), &provider()).map_err(|e| {
            problem(
                var::CLIENT_KEY_FILE,
                key_path,
                &format!(
                    "is not the key of the certificate in {} ({e})",
                    cert_path.display()
                ),
            )
        })?;
        // ureq does not export its key-kind enum; it reads the same PEM the same way (first
        // private key of any of the three kinds), which was just checked.
        let key = PrivateKey::from_pem(&key_pem).map_err(|e| {
            problem(
                var::CLIENT_KEY_FILE,
                key_path,
                &format!("holds no usable private key ({e})"),
            )
        })?;
        let chain: Vec<Certificate<'static>> = chain
            .iter()
            .map(|der| Certificate::from_der(der).to_owned())
            .collect();
        self.client = Some(ClientCert::new_with_certs(&chain, key));
        Ok(())
    }

    /// The ureq configuration: verification always on, hostname checked, SNI sent.
    pub(crate) fn to_ureq(&self) -> TlsConfig {
        let roots = match &self.roots {
            Some(certs) => RootCerts::new_with_certs(certs),
            None => RootCerts::WebPki,
        };
        TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(provider())
            .root_certs(roots)
            .client_cert(self.client.clone())
            .disable_verification(false)
            .use_sni(true)
            .build()
    }
}

fn read(setting: &'static str, path: &Path) -> Result<Vec<u8>, PushError> {
    std::fs::read(path).map_err(|e| problem(setting, path, &format!("cannot be read ({e})")))
}

fn certificates(
    setting: &'static str,
    path: &Path,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, PushError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| problem(setting, path, &format!("is not valid PEM ({e})")))?;
    if certs.is_empty() {
        return Err(problem(setting, path, "holds no PEM certificate"));
    }
    Ok(certs)
}

fn problem(setting: &'static str, path: &Path, what: &str) -> PushError {
    PushError::InvalidConfig {
        setting,
        reason: format!("{} {what}", path.display()),
    }
}

/// A TLS failure in words a user can act on.
pub(crate) fn describe(error: &rustls::Error) -> String {
    use rustls::CertificateError as Cert;
    match error {
        rustls::Error::InvalidCertificate(cert) => match cert {
            Cert::UnknownIssuer => format!(
                "the gateway's certificate is not trusted: unknown issuer (set {} to the CA that signed it)",
                var::CA_FILE
            ),
            Cert::NotValidForName | Cert::NotValidForNameContext { .. } => format!(
                "the gateway's certificate is not valid for the host in {}: {error}",
                var::URL
            ),
            Cert::Expired | Cert::ExpiredContext { .. } => {
                format!("the gateway's certificate has expired: {error}")
            }
            _ => format!("the gateway's certificate was refused: {error}"),
        },
        rustls::Error::AlertReceived(alert) => format!(
            "the gateway refused the handshake ({alert:?}); if it requires a client certificate, set {} and {}",
            var::CLIENT_CERT_FILE,
            var::CLIENT_KEY_FILE
        ),
        other => other.to_string(),
    }
}
