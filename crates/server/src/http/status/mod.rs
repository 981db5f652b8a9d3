//! The public status page: `/status` (and its history and incident pages), the
//! Statuspage-compatible JSON under `/api/v2/`, and the `/history.atom` and
//! `/history.rss` feeds. No login. Every answer is rendered from the in-memory view
//! (`infra::status_page`), once per build of it, and served from memory with `ETag`,
//! `Last-Modified` and `Cache-Control`; a request never reads the database. Each answer
//! is gzip-compressed once per build too, and clients that accept gzip get those bytes
//! (with their own entity tag): no compression per request on the part of Klaxon that
//! customers hammer during an outage.

mod feeds;
mod page;
mod subscribe;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use klaxon_domain::status::{statuspage, PublicView};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::infra::state::AppState;
use crate::infra::status_page::PageSnapshot;

/// How long browsers and proxies may keep an answer.
const CACHE_CONTROL: &str = "public, max-age=10";

/// The public routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/status", get(status_page))
        .route("/status/history", get(page::history))
        .route("/status/incidents/{id}", get(page::incident))
        .route("/status/maintenances/{id}", get(page::maintenance))
        .route("/status/subscribe", post(subscribe::subscribe_form))
        .route("/status/subscribers/confirm", get(subscribe::confirm))
        .route(
            "/status/subscribers/unsubscribe",
            get(subscribe::unsubscribe_page).post(subscribe::unsubscribe),
        )
        .route("/api/v2/subscribers.json", post(subscribe::subscribe_json))
        .route("/history.atom", get(atom))
        .route("/history.rss", get(rss))
        .route("/api/v2/summary.json", get(json(|r| &r.summary)))
        .route("/api/v2/status.json", get(json(|r| &r.status)))
        .route("/api/v2/components.json", get(json(|r| &r.components)))
        .route("/api/v2/incidents.json", get(json(|r| &r.incidents)))
        .route(
            "/api/v2/incidents/unresolved.json",
            get(json(|r| &r.unresolved)),
        )
        .route(
            "/api/v2/scheduled-maintenances.json",
            get(json(|r| &r.maintenances)),
        )
        .route(
            "/api/v2/scheduled-maintenances/upcoming.json",
            get(json(|r| &r.upcoming)),
        )
        .route(
            "/api/v2/scheduled-maintenances/active.json",
            get(json(|r| &r.active)),
        )
}

/// One rendered answer: its bytes, their type and their entity tag, as is and
/// gzip-compressed.
pub(super) struct Body {
    content_type: &'static str,
    plain: Encoded,
    gzip: Encoded,
}

/// An answer's bytes in one encoding and their entity tag.
struct Encoded {
    bytes: Bytes,
    etag: HeaderValue,
}

impl Body {
    fn new(bytes: impl Into<Bytes>, content_type: &'static str) -> Body {
        let bytes = bytes.into();
        let tag = hex::encode(&Sha256::digest(&bytes)[..12]);
        let etag = |tag: String| HeaderValue::from_str(&tag).expect("hex is a header value");
        Body {
            content_type,
            gzip: Encoded {
                bytes: gzip(&bytes).into(),
                etag: etag(format!("\"{tag}-gzip\"")),
            },
            plain: Encoded {
                bytes,
                etag: etag(format!("\"{tag}\"")),
            },
        }
    }

    fn json(value: &impl Serialize) -> Body {
        let bytes = serde_json::to_vec(value).expect("plain data always serialises");
        Body::new(bytes, "application/json")
    }
}

/// Every answer of one build of the page.
pub(super) struct Rendered {
    summary: Body,
    status: Body,
    components: Body,
    incidents: Body,
    unresolved: Body,
    maintenances: Body,
    upcoming: Body,
    active: Body,
    page: Body,
    atom: Body,
    rss: Body,
    last_modified: HeaderValue,
}

impl Rendered {
    fn new(state: &AppState, snapshot: &PageSnapshot) -> Rendered {
        let v: &PublicView = &snapshot.view;
        Rendered {
            summary: Body::json(&statuspage::summary(v)),
            status: Body::json(&statuspage::status_answer(v)),
            components: Body::json(&statuspage::components_answer(v)),
            incidents: Body::json(&statuspage::incidents(v)),
            unresolved: Body::json(&statuspage::unresolved(v)),
            maintenances: Body::json(&statuspage::maintenances(v)),
            upcoming: Body::json(&statuspage::upcoming(v)),
            active: Body::json(&statuspage::active(v)),
            page: Body::new(page::main(state, snapshot), "text/html; charset=utf-8"),
            atom: Body::new(feeds::atom(v), "application/atom+xml; charset=utf-8"),
            rss: Body::new(feeds::rss(v), "application/rss+xml; charset=utf-8"),
            last_modified: http_date(v.page.updated_at),
        }
    }
}

/// A time as HTTP headers write it: `Wed, 26 Nov 2026 10:00:00 GMT`.
fn http_date(t: jiff::Timestamp) -> HeaderValue {
    HeaderValue::from_str(&t.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .expect("a date is a header value")
}

/// The current build's answers, rendered on first use.
fn rendered(state: &AppState) -> (Arc<PageSnapshot>, Arc<Rendered>) {
    let snapshot = state.status_page.get();
    let any = snapshot
        .rendered
        .get_or_init(|| Arc::new(Rendered::new(state, &snapshot)))
        .clone();
    let rendered = any
        .downcast::<Rendered>()
        .expect("only this module renders the page");
    (snapshot, rendered)
}

/// `bytes` gzip-compressed at the default level (once per build, so not the fastest).
fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 4 + 64),
        flate2::Compression::default(),
    );
    encoder.write_all(bytes).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

/// Whether a request with `headers` takes a gzip-encoded answer: `Accept-Encoding`
/// names `gzip` (or `x-gzip`, or `*`) with a quality above zero.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut gzip = None;
    let mut any = None;
    for coding in headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let mut parts = coding.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match name.as_str() {
            "gzip" | "x-gzip" => gzip = Some(quality > 0.0),
            "*" => any = Some(quality > 0.0),
            _ => {}
        }
    }
    gzip.or(any).unwrap_or(false)
}

/// `body` as an answer to a request with `headers`, gzip-encoded when the client takes
/// it: 304 when the client holds it already.
fn answer(headers: &HeaderMap, body: &Body, last_modified: &HeaderValue) -> Response {
    let gzip = accepts_gzip(headers);
    let encoded = if gzip { &body.gzip } else { &body.plain };
    let fresh = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == encoded.etag
        });
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(body.content_type),
            )],
            encoded.bytes.clone(),
        )
            .into_response()
    };
    let h = response.headers_mut();
    if gzip {
        // Set here, the compression layer leaves the answer alone.
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(header::ETAG, encoded.etag.clone());
    h.insert(header::LAST_MODIFIED, last_modified.clone());
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// A handler answering the JSON body `pick` chooses.
fn json(
    pick: fn(&Rendered) -> &Body,
) -> impl Fn(State<AppState>, HeaderMap) -> std::future::Ready<Response> + Clone + Send + Sync + 'static
{
    move |State(state): State<AppState>, headers: HeaderMap| {
        let (_, r) = rendered(&state);
        std::future::ready(answer(&headers, pick(&r), &r.last_modified))
    }
}

/// `GET /status`.
async fn status_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (_, r) = rendered(&state);
    answer(&headers, &r.page, &r.last_modified)
}

/// `GET /history.atom`.
async fn atom(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (_, r) = rendered(&state);
    answer(&headers, &r.atom, &r.last_modified)
}

/// `GET /history.rss`.
async fn rss(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (_, r) = rendered(&state);
    answer(&headers, &r.rss, &r.last_modified)
}

/// The paths the status page's own host name serves; everything else is another
/// host's business there (the admin UI and API stay off the public host).
fn public_path(path: &str) -> bool {
    path == "/status"
        || path.starts_with("/status/")
        || path.starts_with("/api/v2/")
        || path.starts_with("/history.")
        || path == "/healthz"
        || path == "/readyz"
}

/// The host of an http(s) URL, lower-cased, without the port.
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => host.split(':').next()?,
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// On the status page's own host name (when it has one apart from the public URL's),
/// `/` is the page and only the public routes answer.
pub async fn on_status_host(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(status_host) = state.status_config.url.as_deref().and_then(host_of) else {
        return next.run(request).await;
    };
    if state.public_url.as_deref().and_then(host_of).as_deref() == Some(status_host.as_str()) {
        return next.run(request).await;
    }
    let asked = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| host_of(&format!("http://{h}")));
    if asked.as_deref() != Some(status_host.as_str()) {
        return next.run(request).await;
    }
    let path = request.uri().path();
    if path == "/" {
        return Redirect::to("/status").into_response();
    }
    if public_path(path) {
        return next.run(request).await;
    }
    (StatusCode::NOT_FOUND, "not found").into_response()
}

/// The answer to a page request that does not parse.
pub(super) fn bad_request(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message.to_owned(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_read_from_urls_and_headers() {
        assert_eq!(
            host_of("https://Status.Example.com/x").as_deref(),
            Some("status.example.com")
        );
        assert_eq!(
            host_of("http://status.example.com:8080").as_deref(),
            Some("status.example.com")
        );
        assert_eq!(host_of("http://[::1]:80/").as_deref(), Some("::1"));
        assert_eq!(host_of("status.example.com"), None);
        assert!(public_path("/api/v2/summary.json"));
        assert!(public_path("/status/history"));
        assert!(!public_path("/api/v1/incidents"));
        assert!(!public_path("/statuses"));
        assert!(!public_path("/"));
    }

    #[test]
    fn gzip_is_taken_when_accepted_with_a_quality_above_zero() {
        let accepts = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            accepts_gzip(&h)
        };
        assert!(accepts("gzip"));
        assert!(accepts("gzip, deflate, br"));
        assert!(accepts("br;q=1.0, GZIP;q=0.5"));
        assert!(accepts("x-gzip"));
        assert!(accepts("*"));
        assert!(!accepts("identity"));
        assert!(!accepts("br, deflate"));
        assert!(!accepts("gzip;q=0"));
        assert!(!accepts("*, gzip;q=0"));
        assert!(!accepts("*;q=0"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn an_answer_is_gzipped_once_with_its_own_tag() {
        use std::io::Read;
        let body = Body::new("hello ".repeat(100), "text/plain");
        assert_ne!(body.plain.etag, body.gzip.etag);
        assert!(body.gzip.bytes.len() < body.plain.bytes.len());
        let mut out = String::new();
        flate2::read::GzDecoder::new(&body.gzip.bytes[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out.as_bytes(), &body.plain.bytes[..]);
    }

    #[test]
    fn an_http_date_is_rfc_7231() {
        let t: jiff::Timestamp = "2026-11-26T10:00:00Z".parse().unwrap();
        assert_eq!(http_date(t), "Thu, 26 Nov 2026 10:00:00 GMT");
    }
}
