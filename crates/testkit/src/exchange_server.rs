//! A real HTTP server on loopback that answers as an Exchange front end does, for the
//! probe's tests and its benchmark (feature `exchange-server`, never in the shipped
//! binary). It is hyper's server, over TLS with a self-signed certificate made at
//! start-up or over plain HTTP, so the probe meets what it meets on a network: the
//! version header, the export-tool manifest, the logon page's build path, and the
//! answers of the three active checks, each as a vulnerable, patched or mitigated
//! server gives them.

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use tokio::net::TcpListener;

/// The servers' runtime, on threads of its own: the probe under test starts its own.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime for the test servers")
    })
}

/// How an Exchange-like server behaves.
#[derive(Clone, Default)]
pub struct Exchange {
    /// The `X-OWA-Version` header of the logon page, when the server sends it.
    pub owa_version: Option<&'static str>,
    /// The eDiscovery export tool's manifest version, when the manifest is served.
    pub manifest_version: Option<&'static str>,
    /// The `15.x.y` folder in the logon page's resource paths.
    pub logon_cu: Option<&'static str>,
    pub proxylogon_open: bool,
    pub proxyshell_open: bool,
    /// `Some(true)`: the ProxyNotShell URL Rewrite rule aborts; `Some(false)`: the
    /// back end's PowerShell answers 401; `None`: 404.
    pub notshell_mitigated: Option<bool>,
}

/// What a handler gives: an answer, or `Err` to drop the connection without one, as
/// IIS's `AbortRequest` action does.
pub type Answer = Result<Response<Full<Bytes>>, String>;
pub type Handler = Arc<dyn Fn(&Request<Incoming>) -> Answer + Send + Sync>;

fn empty(status: u16, response: hyper::http::response::Builder) -> Answer {
    response
        .status(status)
        .body(Full::new(Bytes::new()))
        .map_err(|e| e.to_string())
}

/// The answer of an Exchange front end that behaves as `kind` says.
pub fn answer(kind: &Exchange, request: &Request<Incoming>) -> Answer {
    let path = request.uri().path();
    let query = request.uri().query().unwrap_or("");
    let cookie = request
        .headers()
        .get("cookie")
        .map(|c| String::from_utf8_lossy(c.as_bytes()).into_owned())
        .unwrap_or_default();
    let mut response = Response::builder()
        .header("Server", "Microsoft-IIS/10.0")
        .header("X-FEServer", "EXCH01");
    let body: String;
    if path.eq_ignore_ascii_case("/owa/auth/logon.aspx") {
        if let Some(v) = kind.owa_version {
            response = response.header("X-OWA-Version", v);
        }
        body = match kind.logon_cu {
            Some(cu) => format!(
                "<html><link href=\"/owa/auth/{cu}/themes/resources/owafont_ltr.css\"><script src=\"/owa/auth/{cu}/scripts/premium/flogon.js\"></script></html>"
            ),
            None => "<html>Outlook</html>".into(),
        };
    } else if path.ends_with("microsoft.exchange.ediscovery.exporttool.application") {
        let Some(v) = kind.manifest_version else {
            return empty(404, response);
        };
        body = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><asmv1:assembly xmlns:asmv1=\"urn:schemas-microsoft-com:asm.v1\" xmlns=\"urn:schemas-microsoft-com:asm.v2\"><assemblyIdentity name=\"microsoft.exchange.ediscovery.exporttool.application\" version=\"{v}\" xmlns=\"urn:schemas-microsoft-com:asm.v1\" /></asmv1:assembly>"
        );
    } else if path == "/owa/auth/x.js" {
        if cookie.contains("X-AnonResource-Backend") && kind.notshell_mitigated == Some(true) {
            // The EOMT rule on the cookie, present wherever the later rule is.
            return Err("aborted".into());
        }
        if kind.proxylogon_open && cookie.contains("X-BEResource=localhost") {
            response = response.header("X-CalculatedBETarget", "localhost");
        }
        return empty(500, response);
    } else if path.starts_with("/autodiscover/autodiscover.json") {
        let decoded = query.replace("%3F", "?");
        if decoded.contains("/powershell") {
            return match kind.notshell_mitigated {
                Some(true) => Err("aborted".into()),
                Some(false) => empty(401, response),
                None => empty(404, response),
            };
        }
        if !(decoded.contains("/mapi/nspi") && kind.proxyshell_open) {
            return empty(302, response.header("Location", "/owa/"));
        }
        body = "<html><head><title>Exchange MAPI/HTTP Connectivity Endpoint</title></head></html>"
            .into();
    } else {
        return empty(404, response);
    }
    response
        .status(200)
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())
}

/// Serves `handler` on `listener` until the runtime stops, over TLS when `tls` is set.
pub async fn serve_on(listener: TcpListener, handler: Handler, tls: bool) {
    let acceptor = tls.then(|| tokio_rustls::TlsAcceptor::from(Arc::new(self_signed_config())));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let handler = handler.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let result = handler(&request);
                async move { result }
            });
            let http = hyper::server::conn::http1::Builder::new();
            match acceptor {
                Some(acceptor) => {
                    if let Ok(tls) = acceptor.accept(stream).await {
                        let _ = http.serve_connection(TokioIo::new(tls), service).await;
                    }
                }
                None => {
                    let _ = http.serve_connection(TokioIo::new(stream), service).await;
                }
            }
        });
    }
}

/// A server for `handler` on a free port of 127.0.0.1, running in [`runtime`].
pub fn serve(handler: Handler, tls: bool) -> SocketAddr {
    runtime().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free loopback port");
        let addr = listener.local_addr().expect("the bound address");
        tokio::spawn(serve_on(listener, handler, tls));
        addr
    })
}

/// An Exchange front end that behaves as `kind` says, on a free loopback port.
pub fn exchange(kind: Exchange, tls: bool) -> SocketAddr {
    serve(Arc::new(move |r: &Request<Incoming>| answer(&kind, r)), tls)
}

fn self_signed_config() -> rustls::ServerConfig {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("a self-signed certificate");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(made.signing_key.serialize_der().into());
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring's protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![made.cert.der().clone()], key)
        .expect("the certificate and its key")
}
