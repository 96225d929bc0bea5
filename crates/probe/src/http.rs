//! One HTTP(S) request to one target, on hyper and rustls, with the limits a hostile
//! server cannot get past: a timeout on connect and answer together, a cap on the
//! header block (hyper's), a cap on the body read, one connection per request, torn
//! down when the answer is read.
//!
//! Certificates are accepted whatever they are (Exchange servers mostly run on their
//! self-signed one) and then checked against Mozilla's roots after the handshake,
//! so the result can say whether the certificate would have been trusted.

use crate::targets::{Scheme, Target};
use exsweep_model::printable;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// The largest header block read: Exchange sends under 4 KiB.
const MAX_HEAD: usize = 64 << 10;
/// The most of a body read: `logon.aspx` is about 30 KiB, the manifest under 4 KiB.
pub const MAX_BODY: usize = 512 << 10;

/// An answer, read within the limits.
#[derive(Clone, Debug, Default)]
pub struct Answer {
    pub status: u16,
    /// Names in lower case; values made printable (control characters escaped).
    pub headers: Vec<(String, String)>,
    /// The body, decoded lossily, at most [`MAX_BODY`] bytes of it.
    pub body: String,
    pub body_truncated: bool,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Where an answer came from.
#[derive(Clone, Debug, Default)]
pub struct Peer {
    pub ip: Option<IpAddr>,
    /// For HTTPS: `None` when the certificate is trusted for the name, else why not.
    pub untrusted_certificate: Option<String>,
}

/// Why a request got no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchError {
    /// The name did not resolve, or nothing listens.
    Connect(String),
    Tls(String),
    Timeout(Duration),
    /// The server closed or reset the connection without answering: what IIS's URL
    /// Rewrite `AbortRequest` does, so the mitigation checks read it.
    NoAnswer(String),
    /// What came back is not HTTP, or breaks a limit.
    BadAnswer(String),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Connect(e) => write!(f, "cannot connect: {e}"),
            FetchError::Tls(e) => write!(f, "TLS handshake failed: {e}"),
            FetchError::Timeout(t) => write!(f, "no answer within {} s", t.as_secs_f32()),
            FetchError::NoAnswer(e) => write!(f, "the connection closed without an answer ({e})"),
            FetchError::BadAnswer(e) => write!(f, "not a usable HTTP answer: {e}"),
        }
    }
}

/// A request's extras: the cookie the ProxyLogon check sends.
#[derive(Clone, Copy, Debug, Default)]
pub struct Extras<'a> {
    pub cookie: Option<&'a str>,
}

/// What every request shares: the TLS set-up, the timeout, the user agent.
pub struct Client {
    tls: tokio_rustls::TlsConnector,
    roots: Arc<WebPkiServerVerifier>,
    timeout: Duration,
    user_agent: String,
}

impl Client {
    pub fn new(timeout: Duration) -> Client {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("ring supports TLS 1.2 and 1.3")
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider.clone())))
            .with_no_client_auth();
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let roots = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .expect("Mozilla's roots are valid");
        Client {
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
            roots,
            timeout,
            user_agent: format!(
                "exsweep/{} (Exchange exposure probe; non-destructive)",
                env!("CARGO_PKG_VERSION")
            ),
        }
    }

    /// `GET path` (below the target's base) on `target`.
    pub async fn get(
        &self,
        target: &Target,
        path: &str,
        extras: Extras<'_>,
    ) -> Result<(Answer, Peer), FetchError> {
        tokio::time::timeout(self.timeout, self.get_untimed(target, path, extras))
            .await
            .unwrap_or(Err(FetchError::Timeout(self.timeout)))
    }

    async fn get_untimed(
        &self,
        target: &Target,
        path: &str,
        extras: Extras<'_>,
    ) -> Result<(Answer, Peer), FetchError> {
        let (stream, ip) = connect(target).await?;
        let mut peer = Peer {
            ip: Some(ip),
            untrusted_certificate: None,
        };
        let host_header = match (target.scheme, target.port) {
            (Scheme::Https, 443) | (Scheme::Http, 80) => bracketed(&target.host),
            (_, port) => format!("{}:{port}", bracketed(&target.host)),
        };
        let mut request = hyper::Request::get(format!("{}{path}", target.base))
            .header(hyper::header::HOST, host_header)
            .header(hyper::header::USER_AGENT, &self.user_agent)
            .header(hyper::header::ACCEPT, "*/*")
            .header(hyper::header::CONNECTION, "close");
        if let Some(cookie) = extras.cookie {
            request = request.header(hyper::header::COOKIE, cookie);
        }
        let request = request
            .body(Empty::<Bytes>::new())
            .map_err(|e| FetchError::BadAnswer(format!("cannot build the request: {e}")))?;
        let answer = match target.scheme {
            Scheme::Http => exchange(stream, request).await?,
            Scheme::Https => {
                let name = server_name(&target.host)?;
                let tls = self
                    .tls
                    .connect(name.clone(), stream)
                    .await
                    .map_err(|e| FetchError::Tls(e.to_string()))?;
                peer.untrusted_certificate = self.certificate_problem(tls.get_ref().1, &name);
                exchange(tls, request).await?
            }
        };
        Ok((answer, peer))
    }

    /// Checks the certificate the server sent against Mozilla's roots for the name
    /// asked for: `None` when it would have been trusted.
    fn certificate_problem(
        &self,
        connection: &rustls::ClientConnection,
        name: &ServerName<'static>,
    ) -> Option<String> {
        let Some((leaf, chain)) = connection
            .peer_certificates()
            .and_then(|certs| certs.split_first())
        else {
            return Some("the server sent no certificate".into());
        };
        self.roots
            .verify_server_cert(leaf, chain, name, &[], UnixTime::now())
            .err()
            .map(|e| e.to_string())
    }
}

fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

fn server_name(host: &str) -> Result<ServerName<'static>, FetchError> {
    ServerName::try_from(host.to_string())
        .map_err(|e| FetchError::Tls(format!("`{host}` cannot be a TLS server name: {e}")))
}

/// Resolves the target and connects to the first address that answers.
async fn connect(target: &Target) -> Result<(TcpStream, IpAddr), FetchError> {
    let addrs: Vec<SocketAddr> = match target.host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, target.port)],
        Err(_) => tokio::net::lookup_host((target.host.as_str(), target.port))
            .await
            .map_err(|e| FetchError::Connect(format!("cannot resolve {}: {e}", target.host)))?
            .collect(),
    };
    let mut last = format!("{} resolves to no address", target.host);
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                // Requests are one small write each: send them at once.
                let _ = stream.set_nodelay(true);
                return Ok((stream, addr.ip()));
            }
            Err(e) => last = format!("{addr}: {e}"),
        }
    }
    Err(FetchError::Connect(last))
}

/// Sends the request over `io` and reads the answer within the limits.
async fn exchange<I>(io: I, request: hyper::Request<Empty<Bytes>>) -> Result<Answer, FetchError>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = http1::Builder::new()
        .max_buf_size(MAX_HEAD)
        .handshake(TokioIo::new(io))
        .await
        .map_err(classify)?;
    // The connection is driven on its own task and stopped once the answer is read,
    // so an endless body ends with this function.
    let driver = tokio::spawn(connection);
    let result = read_answer(&mut sender, request).await;
    driver.abort();
    result
}

async fn read_answer(
    sender: &mut http1::SendRequest<Empty<Bytes>>,
    request: hyper::Request<Empty<Bytes>>,
) -> Result<Answer, FetchError> {
    let response = sender.send_request(request).await.map_err(classify)?;
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_string(), printable(value.as_bytes())))
        .collect();
    let status = response.status().as_u16();
    let mut body = response.into_body();
    let mut bytes = Vec::new();
    let mut body_truncated = false;
    while let Some(frame) = body.frame().await {
        // A body cut short after the head still leaves a usable answer.
        let Ok(frame) = frame else { break };
        if let Some(data) = frame.data_ref() {
            let room = MAX_BODY - bytes.len();
            if data.len() >= room {
                bytes.extend_from_slice(&data[..room]);
                body_truncated = true;
                break;
            }
            bytes.extend_from_slice(data);
        }
    }
    Ok(Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        body_truncated,
    })
}

/// hyper's errors, in the terms of the result.
fn classify(e: hyper::Error) -> FetchError {
    // hyper names a head over its buffer only in the message.
    if e.is_parse() && e.to_string().contains("too large") {
        return FetchError::BadAnswer(format!("the header block exceeds {} KiB", MAX_HEAD >> 10));
    }
    if e.is_parse() || e.is_parse_status() {
        return FetchError::BadAnswer(e.to_string());
    }
    if e.is_incomplete_message() || e.is_closed() || e.is_canceled() {
        return FetchError::NoAnswer(e.to_string());
    }
    let io_reset = std::error::Error::source(&e)
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .is_some_and(|io| {
            matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof
            )
        });
    if io_reset {
        FetchError::NoAnswer(e.to_string())
    } else {
        FetchError::BadAnswer(e.to_string())
    }
}

/// Takes any certificate, so that self-signed Exchange servers can be probed; the
/// handshake's signatures are still checked, and [`Client::certificate_problem`]
/// says afterwards whether the certificate would have been trusted.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
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
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
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
