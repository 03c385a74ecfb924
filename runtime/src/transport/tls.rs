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

use crate::error::PushError;
use crate::settings::env::ServerVariables;

/// The crypto provider of every TLS connection pushtimer makes (pure Rust + asm, no cmake).
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Which certificates the server's chain must lead to, and what we present.
#[derive(Clone)]
pub(crate) struct TlsSettings {
    /// The variables that set these, for messages.
    variables: &'static ServerVariables,
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
    /// No private CA and no client certificate; messages name `variables`.
    pub(crate) fn new(variables: &'static ServerVariables) -> TlsSettings {
        TlsSettings {
            variables,
            roots: None,
            client: None,
        }
    }

    /// Trusts exactly the CA certificates in the PEM file at `path`.
    pub(crate) fn trust_ca_file(&mut self, path: &Path) -> Result<(), PushError> {
        let setting = self.variables.ca_file;
        let pem = read(setting, path)?;
        let certs = certificates(setting, path, &pem)?;
        let mut store = RootCertStore::empty();
        let (usable, _) = store.add_parsable_certificates(certs.iter().cloned());
        if usable == 0 {
            return Err(problem(setting, path, "holds no usable CA certificate"));
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
        let (cert_setting, key_setting) = (
            self.variables.client_cert_file,
            self.variables.client_key_file,
        );
        let chain = certificates(cert_setting, cert_path, &read(cert_setting, cert_path)?)?;
        if let Some(version) = chain
            .first()
            .and_then(|leaf| x509_version(leaf))
            .filter(|v| *v != 3)
        {
            return Err(problem(
                cert_setting,
                cert_path,
                &format!(
                    "holds an X.509 v{version} certificate; TLS clients (rustls) present only v3 \
                     certificates. Reissue it with extensions, e.g. `openssl x509 -req ... \
                     -extfile client.ext` with `extendedKeyUsage = clientAuth` in client.ext"
                ),
            ));
        }
        let key_pem = read(key_setting, key_path)?;
        let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
            problem(
                key_setting,
                key_path,
                &format!("holds no PKCS#8, PKCS#1 or SEC1 private key ({e})"),
            )
        })?;
        CertifiedKey::from_der(chain.clone(), key.clone_key(), &provider()).map_err(|e| {
            problem(
                key_setting,
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
                key_setting,
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

/// The X.509 version (1, 2 or 3) of a DER certificate, from the first bytes of its
/// `TBSCertificate` (RFC 5280 4.1): the version is an explicit `[0]` field that v1 certificates
/// leave out. `None` when the bytes are not shaped like a certificate (rustls says why later).
fn x509_version(der: &[u8]) -> Option<u8> {
    /// The content of the DER element at the start of `bytes` with tag `tag`.
    fn content(bytes: &[u8], tag: u8) -> Option<&[u8]> {
        if *bytes.first()? != tag {
            return None;
        }
        let first = *bytes.get(1)?;
        let (start, len) = if first < 0x80 {
            (2, usize::from(first))
        } else {
            let count = usize::from(first & 0x7f);
            let len_bytes = bytes.get(2..2usize.checked_add(count)?)?;
            let len = len_bytes.iter().try_fold(0usize, |len, b| {
                len.checked_mul(256)?.checked_add(usize::from(*b))
            })?;
            (2usize.checked_add(count)?, len)
        };
        bytes.get(start..start.checked_add(len)?)
    }
    const SEQUENCE: u8 = 0x30;
    const VERSION: u8 = 0xa0;
    const INTEGER: u8 = 0x02;
    let tbs = content(content(der, SEQUENCE)?, SEQUENCE)?;
    match content(tbs, VERSION) {
        Some(version) => match content(version, INTEGER)? {
            [v] => v.checked_add(1),
            _ => None,
        },
        None => (tbs.first() == Some(&INTEGER)).then_some(1),
    }
}

/// A PEM file the user names: never a FIFO, a device or more than 1 MiB (see `user_file.rs`).
fn read(setting: &'static str, path: &Path) -> Result<Vec<u8>, PushError> {
    crate::user_file::read(setting, path)
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

/// A TLS failure in words a user can act on, naming the variables of the server concerned.
pub(crate) fn describe(error: &rustls::Error, variables: &ServerVariables) -> String {
    use rustls::CertificateError as Cert;
    let server = variables.server;
    match error {
        rustls::Error::InvalidCertificate(cert) => match cert {
            Cert::UnknownIssuer => format!(
                "{server}'s certificate is not trusted: unknown issuer (set {} to the CA that signed it)",
                variables.ca_file
            ),
            Cert::NotValidForName | Cert::NotValidForNameContext { .. } => format!(
                "{server}'s certificate is not valid for the host in {}: {error}",
                variables.url
            ),
            Cert::Expired | Cert::ExpiredContext { .. } => {
                format!("{server}'s certificate has expired: {error}")
            }
            _ => format!("{server}'s certificate was refused: {error}"),
        },
        rustls::Error::AlertReceived(alert) => format!(
            "{server} refused the handshake ({alert:?}); if it requires a client certificate, set {} and {}",
            variables.client_cert_file, variables.client_key_file
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x509_versions_are_read_from_the_der() {
        // SEQUENCE { SEQUENCE { [0] { INTEGER 2 }, INTEGER 1 } }: a v3 certificate's start.
        let v3 = [
            0x30, 0x0a, 0x30, 0x08, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x01, 0x01,
        ];
        assert_eq!(x509_version(&v3), Some(3));
        // SEQUENCE { SEQUENCE { INTEGER 1 } }: no version field, so v1.
        let v1 = [0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x01];
        assert_eq!(x509_version(&v1), Some(1));
        for garbage in [
            &[][..],
            &[0x30][..],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff][..],
            &[0x04, 0x00][..],
        ] {
            assert_eq!(x509_version(garbage), None);
        }
    }
}
