//! TLS test support: certificates made at run time ([`Pki`]), temporary directories
//! ([`TempDir`]) and a real Pushgateway behind its `--web.config.file` (TLS, mutual TLS,
//! basic auth: [`SecureGateway`]).
//!
//! Everything is generated inside the test with `rcgen` (ECDSA P-256 keys), except one RSA
//! key, which `ring` cannot generate: it is a fixed test-only key ([`TEST_RSA_KEY_PKCS8`]) so
//! that a PKCS#1 client key can be exercised too.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use crate::server::READY_WITHIN;
use crate::{Gateway, Scrape};

/// A directory under [`std::env::temp_dir`] with a name no other test (or test process)
/// uses; removed with its contents on drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `pushtimer-<label>-<pid>-<counter>` in the system's temp directory.
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("pushtimer-{label}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        TempDir { path }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `contents` to `<dir>/<name>` and returns that path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path.join(name);
        std::fs::write(&path, contents)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// `path` as text, for a job's environment (the temp paths made here are UTF-8).
pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

/// The basic-auth user of the gateways that want one.
pub const USER: &str = "batch";
/// Its password: distinctive, so that finding it in a job's output is meaningful.
pub const PASSWORD: &str = "Pw-7Qz4-Kx9w-sesame";

/// A certificate and its private key, as PEM files.
#[derive(Debug, Clone)]
pub struct CertFiles {
    /// The certificate (`CERTIFICATE`).
    pub cert: PathBuf,
    /// Its key (`PRIVATE KEY`, PKCS#8, unless the field's doc says otherwise).
    pub key: PathBuf,
}

/// A private PKI written as PEM files into a [`TempDir`] (removed when the `Pki` is dropped).
#[derive(Debug)]
pub struct Pki {
    /// The private CA's certificate: the one that signed every certificate below.
    pub ca: PathBuf,
    /// The certificate of a second, unrelated CA that signed nothing used here.
    pub other_ca: PathBuf,
    /// A server certificate for `localhost` and `127.0.0.1`, valid now.
    pub server: CertFiles,
    /// A server certificate for `localhost` and `127.0.0.1` that expired in 2020.
    pub expired: CertFiles,
    /// A server certificate for `wrong.example` only, valid now.
    pub wrong_host: CertFiles,
    /// A client certificate (ECDSA P-256) with a PKCS#8 key.
    pub client: CertFiles,
    /// `client`'s certificate with the same key in SEC1 form (`EC PRIVATE KEY`, with the
    /// curve's parameters, as `openssl ec` writes it).
    pub client_sec1: CertFiles,
    /// A client certificate for an RSA key, the key in PKCS#1 form (`RSA PRIVATE KEY`).
    pub client_rsa_pkcs1: CertFiles,
    /// A PKCS#8 key that belongs to no certificate here (e.g. to pair with `client.cert`).
    pub stray_key: PathBuf,
    /// A file that is not PEM at all.
    pub garbage: PathBuf,
    /// The CA's directory.
    pub dir: TempDir,
}

/// A fixed 2048-bit RSA key, for tests only (it protects nothing): `ring`, which `rcgen`
/// uses here, cannot generate RSA keys, and a PKCS#1 key can only be RSA.
pub const TEST_RSA_KEY_PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCre5GWesWUAuzc
YpgX2WyYSw/lwq9EPDbgQKUfNgfcJK4yJiYIbJlN51fDaEz85Pvu48+DSoX8LitT
0qtG5ARvb10tR6SXz7Z1aY92KzSDcCsvvs6DrONaS/uJFE6ryzqSjoKH9VNxw8qM
E6Z3efEostpOTDWM6/G6FmBhOwT0VJc/yIh/ta+SbxhDhqCfh5HUDFKQB4QpCsRk
MXp1XlB9WSQAY/H2RMxCqpvIUm17lALKOPsYm2l2UhKtrK9fSLSZuZuUINo7lZ6N
twkoys/Fmdgr0WE8R3fXUVvNnqSajW0CBue9YFXZDhLNzbszaYmLzlvwtM0ip62F
fNy7AXT5AgMBAAECggEAAc4e4MJBdI29whLe6aWk93i7q4B5eVmpoqahRlsoNxiV
U0jkcz7Aj2L9PHzm1233zRupCBm/ja85c3eMzKp+UQfYnoFw4sxfW7ogfzyiRJAW
QXBglhXoXX+CxFCclvhOGlzsVDOQdjPNCpPzYJ+riGgJ3lgQY4jYKtV/QQWhEIs4
RCryylYXT0bAhQ+MuH6KrTamNxQJYkKvPN0y7CHyM9McNNhDKEFSPUlDaJlcb1hy
GT/6keQC1J5M+QRxKbwpIJ2fI6hEkmfRlQeKWlmoefzKoKTL8abeA4oIIkIzQUER
BCYGio04dOuA+UXKW32tLruSRYd2opm7Hkoq2YsMrQKBgQDqU11c/YuP2SDtHNT7
UP6KVf72zVoK99hQUZpTQ2LE+S/iybNXSkajk/HiJWxXS7l/bJpvB7913CJf+aTF
2vV5O/HyRcEdjW5Sdex7DXhexwb3QnqgVm7e7+1mDk9xEu1Eie2Ji4+Xr3i17c32
DHbuvZuQ87L6hcpKkopC3UrO5QKBgQC7WCKq2lMt4xTBKQbw3rEzXqe5c4TypdWK
TkAi7JaAlqN1XbDGlZqbit9S6eYWWUyE77oL/QehJlYtHlki9EFrIc/4B2oU7lzy
v1Z6zGzkPOFzPnLUZfMDs4rwFjOrsc7/la01o7rtDQnuoVlSkm0+9YRwwQStY5jb
E3FnJlyYhQKBgAS3Ts67T57CiPYcuXChba4NEweWlHRaDqF3MvrwBUHfngYbdx+P
oCJUrO6XQDn1jTMyVV1cs47EsnBqDtXolT4uZa0xmDRnD0xbkTncyIpnyQ0a6mrl
sm+MNqPyL8kfz2Ssvfohs+8imfRXZ+jG0XH2oPXm4bhHDw43Ks8zsvi9AoGBALeS
41V7XapHK10jMJPyAr0NcVh9Y7bI3PgLOTl/jvItqboltkTA76CecbqzSyx3EE3r
AekhZcp44FSRulJP+ZJarYii60XbU+ThrIHjsofrSBc/CBIsW/YyhmA/wR3qu6Ui
K3m2GEKUVjkojXgl1zqsJby+xjCIuY1h/etPYchpAoGBAONbgdeJ3MMLSyodEPtw
ExBraoiufOk8FFxw4YjnC4R1wnNJddOYPf5t3lEB43rpFmpaL5JQioSViNUeYphE
JJk1k6suYZ4LM1bSGOljvBF1pOI2d04PgGaiyDz972HgsSexrxWu3r4EmTMqusvH
D2vhpdy+gDn8JLsYkLIWODhv
-----END PRIVATE KEY-----
";

/// The DER of the OID of the P-256 curve (`prime256v1`), tag and length included.
const P256_OID: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

impl Pki {
    /// Generates the whole PKI into a new [`TempDir`].
    pub fn generate() -> Pki {
        let dir = TempDir::new("pki");
        let (ca_pem, ca) = new_ca("pushtimer test CA");
        let (other_ca_pem, _) = new_ca("pushtimer unrelated CA");
        let ca_file = dir.write("ca.pem", &ca_pem);
        let other_ca = dir.write("other-ca.pem", other_ca_pem);

        let local = ["localhost", "127.0.0.1"];
        let now_valid = Validity::Now;
        let server = Leaf::server(&local, now_valid).sign(&ca, &dir, "server", None);
        let expired = Leaf::server(&local, Validity::Expired).sign(&ca, &dir, "expired", None);
        let wrong_host =
            Leaf::server(&["wrong.example"], now_valid).sign(&ca, &dir, "wrong-host", None);

        let client_key = KeyPair::generate().expect("an ECDSA key");
        let sec1 = sec1_from_pkcs8(client_key.serialized_der());
        let client = Leaf::client().sign(&ca, &dir, "client", Some(client_key));
        let client_sec1 = CertFiles {
            cert: client.cert.clone(),
            key: dir.write("client-sec1.key", pem_block("EC PRIVATE KEY", sec1)),
        };

        let rsa_key = KeyPair::from_pem(TEST_RSA_KEY_PKCS8).expect("the test RSA key");
        let pkcs1 = pkcs8_private_key(rsa_key.serialized_der()).to_vec();
        let rsa = Leaf::client().sign(&ca, &dir, "client-rsa", Some(rsa_key));
        let client_rsa_pkcs1 = CertFiles {
            cert: rsa.cert,
            key: dir.write("client-rsa-pkcs1.key", pem_block("RSA PRIVATE KEY", pkcs1)),
        };

        let stray_key = dir.write(
            "stray.key",
            KeyPair::generate().expect("an ECDSA key").serialize_pem(),
        );
        let garbage = dir.write("garbage.pem", "this is not PEM\n\u{0}\u{1}\u{2}\n");
        Pki {
            ca: ca_file,
            other_ca,
            server,
            expired,
            wrong_host,
            client,
            client_sec1,
            client_rsa_pkcs1,
            stray_key,
            garbage,
            dir,
        }
    }

    /// The PEM text of `path` (one of this PKI's files).
    pub fn read(path: &Path) -> String {
        std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    }
}

fn new_ca(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("no names");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate().expect("an ECDSA key");
    let cert = params.self_signed(&key).expect("a self-signed CA");
    (cert.pem(), Issuer::new(params, key))
}

#[derive(Clone, Copy)]
enum Validity {
    /// rcgen's default: 1975 to 4096.
    Now,
    /// 2020-01-01 to 2020-01-02.
    Expired,
}

struct Leaf {
    params: CertificateParams,
}

impl Leaf {
    fn server(names: &[&str], validity: Validity) -> Leaf {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names.clone()).expect("valid names");
        params
            .distinguished_name
            .push(DnType::CommonName, &names[0]);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        if let Validity::Expired = validity {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 1, 2);
        }
        Leaf::finish(params)
    }

    fn client() -> Leaf {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("no names");
        params
            .distinguished_name
            .push(DnType::CommonName, "pushtimer batch job");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        Leaf::finish(params)
    }

    fn finish(mut params: CertificateParams) -> Leaf {
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        Leaf { params }
    }

    /// Signs with `ca` and writes `<name>.pem` and (for a generated key) `<name>.key`.
    fn sign(
        self,
        ca: &Issuer<'static, KeyPair>,
        dir: &TempDir,
        name: &str,
        key: Option<KeyPair>,
    ) -> CertFiles {
        let key = key.unwrap_or_else(|| KeyPair::generate().expect("an ECDSA key"));
        let cert = self
            .params
            .signed_by(&key, ca)
            .expect("a signed certificate");
        CertFiles {
            cert: dir.write(&format!("{name}.pem"), cert.pem()),
            key: dir.write(&format!("{name}.key"), key.serialize_pem()),
        }
    }
}

fn pem_block(tag: &str, der: Vec<u8>) -> String {
    pem::encode(&pem::Pem::new(tag, der))
}

/// One DER element at the start of `input`: `(tag, content, the whole element)`.
fn der_element(input: &[u8]) -> (u8, &[u8], &[u8]) {
    let tag = input[0];
    let (length, header) = match input[1] {
        short if short < 0x80 => (usize::from(short), 2),
        long => {
            let bytes = usize::from(long & 0x7f);
            let length = input[2..2 + bytes]
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            (length, 2 + bytes)
        }
    };
    (
        tag,
        &input[header..header + length],
        &input[..header + length],
    )
}

fn der_wrap(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let length = content.len();
    if length < 0x80 {
        out.push(length as u8);
    } else if length < 0x100 {
        out.extend([0x81, length as u8]);
    } else {
        out.extend([0x82, (length >> 8) as u8, length as u8]);
    }
    out.extend_from_slice(content);
    out
}

/// The `privateKey` OCTET STRING's content of a PKCS#8 `PrivateKeyInfo`: the PKCS#1
/// `RSAPrivateKey` of an RSA key, the SEC1 `ECPrivateKey` of an EC key.
fn pkcs8_private_key(pkcs8: &[u8]) -> &[u8] {
    let (_, info, _) = der_element(pkcs8);
    let (_, _, version) = der_element(info);
    let rest = &info[version.len()..];
    let (_, _, algorithm) = der_element(rest);
    let (tag, key, _) = der_element(&rest[algorithm.len()..]);
    assert_eq!(tag, 0x04, "PKCS#8 privateKey is an OCTET STRING");
    key
}

/// The SEC1 `ECPrivateKey` of a P-256 PKCS#8 key, with the curve named in its `[0]`
/// parameters, as OpenSSL writes `EC PRIVATE KEY`.
fn sec1_from_pkcs8(pkcs8: &[u8]) -> Vec<u8> {
    let (tag, body, _) = der_element(pkcs8_private_key(pkcs8));
    assert_eq!(tag, 0x30, "ECPrivateKey is a SEQUENCE");
    let (_, _, version) = der_element(body);
    let (_, _, private) = der_element(&body[version.len()..]);
    let rest = &body[version.len() + private.len()..];
    let mut content = Vec::new();
    content.extend_from_slice(version);
    content.extend_from_slice(private);
    if rest.first() != Some(&0xa0) {
        content.extend(der_wrap(0xa0, P256_OID));
    }
    content.extend_from_slice(rest);
    der_wrap(0x30, &content)
}

/// Which certificate a [`SecureGateway`] serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerCert {
    /// [`Pki::server`]: valid for `localhost` and `127.0.0.1`.
    Valid,
    /// [`Pki::expired`].
    Expired,
    /// [`Pki::wrong_host`]: valid for `wrong.example` only.
    WrongHost,
}

/// How a [`SecureGateway`] is set up.
#[derive(Debug, Clone, Copy)]
pub struct Security<'a> {
    /// Serve HTTPS with `server_cert` (else plain HTTP, e.g. for basic auth alone).
    pub tls: bool,
    /// The certificate served when `tls`.
    pub server_cert: ServerCert,
    /// Mutual TLS: require a client certificate signed by the [`Pki`]'s CA.
    pub require_client_cert: bool,
    /// Basic auth: `(user, password)`, stored as a bcrypt hash in the web config.
    pub basic_auth: Option<(&'a str, &'a str)>,
}

impl Default for Security<'_> {
    /// HTTPS with the valid server certificate, nothing else.
    fn default() -> Self {
        Security {
            tls: true,
            server_cert: ServerCert::Valid,
            require_client_cert: false,
            basic_auth: None,
        }
    }
}

/// The exporter-toolkit web configuration (`--web.config.file`, read by the Pushgateway and by
/// Prometheus alike) for `security`.
pub fn web_config(pki: &Pki, security: Security<'_>) -> String {
    let mut yaml = String::new();
    if security.tls {
        let served = match security.server_cert {
            ServerCert::Valid => &pki.server,
            ServerCert::Expired => &pki.expired,
            ServerCert::WrongHost => &pki.wrong_host,
        };
        yaml.push_str(&format!(
            "tls_server_config:\n  cert_file: {:?}\n  key_file: {:?}\n",
            served.cert, served.key
        ));
        if security.require_client_cert {
            yaml.push_str(&format!(
                "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {:?}\n",
                pki.ca
            ));
        }
    } else {
        assert!(
            !security.require_client_cert,
            "mutual TLS needs `tls: true`"
        );
    }
    if let Some((user, password)) = security.basic_auth {
        // The lowest cost: the server checks it on every request.
        let hash = bcrypt::hash(password, 4).expect("a bcrypt hash");
        yaml.push_str(&format!("basic_auth_users:\n  {user}: {hash:?}\n"));
    }
    yaml
}

/// The harness's own client for a server set up with [`web_config`]: the test CA, the client
/// certificate, the basic-auth header, as `security` needs.
pub struct SecureClient {
    scheme: &'static str,
    agent: ureq::Agent,
    authorization: Option<String>,
}

impl SecureClient {
    /// A client for a server set up with `security`.
    pub fn new(pki: &Pki, security: Security<'_>) -> SecureClient {
        let mut tls = ureq::tls::TlsConfig::builder();
        if security.tls && security.server_cert == ServerCert::Valid {
            let ca = ureq::tls::Certificate::from_pem(Pki::read(&pki.ca).as_bytes())
                .expect("the test CA")
                .to_owned();
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&[ca]));
        } else {
            // The harness must still read a server whose certificate the job rightly refuses.
            tls = tls.disable_verification(true);
        }
        if security.require_client_cert {
            let cert = ureq::tls::Certificate::from_pem(Pki::read(&pki.client.cert).as_bytes())
                .expect("the client certificate")
                .to_owned();
            let key = ureq::tls::PrivateKey::from_pem(Pki::read(&pki.client.key).as_bytes())
                .expect("the client key")
                .to_owned();
            tls = tls.client_cert(Some(ureq::tls::ClientCert::new_with_certs(&[cert], key)));
        }
        let agent = ureq::Agent::config_builder()
            .tls_config(tls.build())
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .new_agent();
        let authorization = security.basic_auth.map(|(user, password)| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            )
        });
        SecureClient {
            scheme: if security.tls { "https" } else { "http" },
            agent,
            authorization,
        }
    }

    /// `https://127.0.0.1:<port>` (or `http://` without TLS).
    pub fn url(&self, port: u16) -> String {
        format!("{}://127.0.0.1:{port}", self.scheme)
    }

    /// A request with the harness's credentials to the server on `port`: `(status, body)`, or
    /// why it failed.
    pub fn request(
        &self,
        port: u16,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> Result<(u16, String), String> {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url(port)))
            .header("Content-Type", "text/plain; version=0.0.4");
        if let Some(authorization) = &self.authorization {
            request = request.header("Authorization", authorization);
        }
        let request = request
            .body(body.unwrap_or("").to_owned())
            .map_err(|e| e.to_string())?;
        let mut response = self.agent.run(request).map_err(|e| e.to_string())?;
        let code = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        Ok((code, text))
    }
}

/// A real Pushgateway started with `--web.config.file`, and a client that can talk to it
/// (the test CA, the client certificate, the basic-auth header, as needed). Killed on drop.
pub struct SecureGateway {
    gateway: Gateway,
    client: SecureClient,
    log: PathBuf,
    _dir: TempDir,
}

impl SecureGateway {
    /// Starts one and waits until it answers `/-/ready` with 200 over its own scheme; or
    /// returns `None` (after saying so) when the Pushgateway binary is not installed.
    pub fn start(test: &str, pki: &Pki, security: Security<'_>) -> Option<SecureGateway> {
        let dir = TempDir::new("web");
        let yaml = web_config(pki, security);
        let config = dir.write("web-config.yml", &yaml);
        let log = dir.path().join("pushgateway.log");
        let flag = format!("--web.config.file={}", config.display());
        let gateway = Gateway::launch(test, &[&flag], Some(&log))?;
        let mut secure = SecureGateway {
            gateway,
            client: SecureClient::new(pki, security),
            log,
            _dir: dir,
        };
        secure.wait_ready(&yaml);
        Some(secure)
    }

    fn wait_ready(&mut self, yaml: &str) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.gateway.exited() {
                panic!(
                    "the Pushgateway exited before it was ready: {status}\nweb config:\n{yaml}\nlog:\n{}",
                    self.log_text()
                );
            }
            let last = match self.request("GET", "/-/ready", None) {
                Ok((200, _)) => return,
                Ok((code, body)) => format!("HTTP {code}: {body}"),
                Err(error) => error,
            };
            assert!(
                started.elapsed() < READY_WITHIN,
                "the Pushgateway was not ready within {READY_WITHIN:?}; last answer: {last}\n\
                 web config:\n{yaml}\nlog:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the gateway has logged so far (warnings and errors).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `https://127.0.0.1:<port>` (or `http://` without TLS).
    pub fn url(&self) -> String {
        self.client.url(self.gateway.port())
    }

    /// `https://localhost:<port>` (or `http://` without TLS).
    pub fn localhost_url(&self) -> String {
        format!("{}://localhost:{}", self.client.scheme, self.gateway.port())
    }

    /// The `https://user:password@127.0.0.1:<port>` form of [`url`](Self::url).
    pub fn url_with_userinfo(&self, user: &str, password: &str) -> String {
        format!(
            "{}://{user}:{password}@127.0.0.1:{}",
            self.client.scheme,
            self.gateway.port()
        )
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.gateway.port()
    }

    /// A request with the harness's credentials: `(status, body)`, or why it failed.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> Result<(u16, String), String> {
        self.client.request(self.gateway.port(), method, path, body)
    }

    /// Everything the gateway exposes on `/metrics`.
    pub fn scrape(&self) -> Scrape {
        match self.request("GET", "/metrics", None) {
            Ok((200, body)) => Scrape::parse(&body),
            Ok((code, body)) => panic!("scrape answered {code}: {body}"),
            Err(error) => panic!("cannot scrape {}: {error}", self.url()),
        }
    }
}
