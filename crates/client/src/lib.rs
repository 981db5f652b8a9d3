//! A typed client of Klaxon's REST API (`/api/v1`), shared by the CLI, tests and
//! benchmarks. Every method sends the bearer token and the source header, and answers
//! with the domain's own types, so the client cannot drift from the server. It holds no
//! rules of its own: what a request means is the server's business.
#![forbid(unsafe_code)]

mod maintenance;
mod paging;
mod reports;
mod reviews;
mod status;
mod subscribers;

pub use reports::ReportWindow;

use std::fmt;
use std::time::Duration;

use klaxon_domain::alert::Alert;
use klaxon_domain::api::{
    AckRequest, CreatedToken, IncidentPage, IncidentQuery, Me, MergeRequest, MitigateRequest,
    NewToken, NewUser, NoteRequest, Problem, ReasonRequest, ResolveRequest, RoleRequest,
    SeverityRequest, UserUpdate, SOURCE_HEADER,
};
use klaxon_domain::api::{AlertDetail, AlertPage, AlertQuery, AlertShowQuery};
use klaxon_domain::auth::{TokenInfo, User};
use klaxon_domain::incident::{Evidence, IncidentView, StatusUpdateInput};
use klaxon_domain::policy::Policy;
use klaxon_domain::service::{
    Heartbeat, IntegrationKey, MaintenanceWindow, NewHeartbeat, NewMaintenance, NewService,
    Service, ServiceName, ServiceUpdate,
};
use klaxon_domain::{AlertId, Handle, IncidentNumber, KeyId, MaintenanceId, TokenId};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error status. Its problem body, or one made up from
    /// the status and the body's text when the server did not send a problem.
    #[error("{}", problem_text(.0))]
    Api(Problem),
    /// The request never got an answer: the server is down, the URL is wrong, the
    /// connection broke or timed out. The message names the URL.
    #[error("{0}")]
    Transport(String),
    /// The server answered 2xx with a body that is not what the API promises.
    #[error("unexpected answer from Klaxon at {url}: {message}")]
    Decode { url: String, message: String },
}

fn problem_text(p: &Problem) -> String {
    if p.detail.trim().is_empty() {
        p.title.clone()
    } else {
        p.detail.clone()
    }
}

/// A connection to one Klaxon server as one token. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    token: String,
    source: String,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url)
            .field("token", &"[redacted]")
            .field("source", &self.source)
            .finish()
    }
}

impl Client {
    /// A client of the server at `base_url` (e.g. `http://127.0.0.1:8080`), acting with
    /// `token`. Changes are recorded as coming from the `api`; see [`Client::with_source`].
    pub fn new(base_url: impl Into<String>, token: impl Into<String>) -> Client {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("klaxon-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Client {
            http,
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            token: token.into(),
            source: "api".to_owned(),
        }
    }

    /// The same client, recording its changes as coming from `source` (`cli`, `web`,
    /// `chat`): the value of the `x-klaxon-source` header.
    pub fn with_source(mut self, source: impl Into<String>) -> Client {
        self.source = source.into();
        self
    }

    /// The server's address, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `GET /healthz`: succeeds when the server answers 200.
    pub async fn healthz(&self) -> Result<(), ClientError> {
        let url = format!("{}/healthz", self.base_url);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        self.check(response).await.map(drop)
    }

    pub async fn policy(&self) -> Result<Policy, ClientError> {
        self.get("/policy").await
    }

    pub async fn list_incidents(&self, query: &IncidentQuery) -> Result<IncidentPage, ClientError> {
        let request = self.request(Method::GET, "/incidents").query(query);
        self.send(request, "/incidents").await
    }

    pub async fn declare(
        &self,
        input: &klaxon_domain::incident::DeclareInput,
    ) -> Result<IncidentView, ClientError> {
        self.post("/incidents", input).await
    }

    /// One incident, with its timeline.
    pub async fn incident(&self, n: IncidentNumber) -> Result<IncidentView, ClientError> {
        self.get(&format!("/incidents/{}", n.0)).await
    }

    pub async fn ack(
        &self,
        n: IncidentNumber,
        body: &AckRequest,
    ) -> Result<IncidentView, ClientError> {
        self.post(&action(n, "ack"), body).await
    }

    pub async fn assign(
        &self,
        n: IncidentNumber,
        body: &RoleRequest,
    ) -> Result<IncidentView, ClientError> {
        self.post(&action(n, "assign"), body).await
    }

    pub async fn relieve(
        &self,
        n: IncidentNumber,
        body: &RoleRequest,
    ) -> Result<IncidentView, ClientError> {
        self.post(&action(n, "relieve"), body).await
    }

    pub async fn change_severity(
        &self,
        n: IncidentNumber,
        body: &SeverityRequest,
    ) -> Result<IncidentView, ClientError> {
        self.post(&action(n, "severity"), body).await
    }

    pub async fn post_update(
        &self,
        n: IncidentNumber,
        body: &StatusUpdateInput,
    ) -> Result<IncidentView, ClientError> {
        self.post(&action(n, "updates"), body).await
    }

    pub async fn mitigate(
        &self,
        n: IncidentNumber,
        body: &MitigateRequest,
    ) -> Result<IncidentView, ClientError> {
        self.post(&action(n, "mitigate"), body).await
    }

    pub async fn resolve(
        &self,
        n: IncidentNumber,
        body: &ResolveRequest,
    ) -> Result<IncidentView, ClientError> {
        self.post(&action(n, "resolve"), body).await
    }

    pub async fn close(&self, n: IncidentNumber) -> Result<IncidentView, ClientError> {
        self.post_empty(&action(n, "close")).await
    }

    pub async fn reopen(
        &self,
        n: IncidentNumber,
        body: &ReasonRequest,
    ) -> Result<IncidentView, ClientError> {
        self.post(&action(n, "reopen"), body).await
    }

    pub async fn decline(
        &self,
        n: IncidentNumber,
        body: &ReasonRequest,
    ) -> Result<IncidentView, ClientError> {
        self.post(&action(n, "decline"), body).await
    }

    /// Merges incident `n` into `body.into`; answers with the target incident.
    pub async fn merge(
        &self,
        n: IncidentNumber,
        body: &MergeRequest,
    ) -> Result<IncidentView, ClientError> {
        self.post(&action(n, "merge"), body).await
    }

    pub async fn note(
        &self,
        n: IncidentNumber,
        body: &NoteRequest,
    ) -> Result<IncidentView, ClientError> {
        self.post(&action(n, "notes"), body).await
    }

    pub async fn evidence(
        &self,
        n: IncidentNumber,
        body: &Evidence,
    ) -> Result<IncidentView, ClientError> {
        self.post(&action(n, "evidence"), body).await
    }

    pub async fn users(&self) -> Result<Vec<User>, ClientError> {
        self.get("/users").await
    }

    pub async fn create_user(&self, body: &NewUser) -> Result<User, ClientError> {
        self.post("/users", body).await
    }

    /// Changes a user (admin): their role.
    pub async fn update_user(
        &self,
        handle: &Handle,
        body: &UserUpdate,
    ) -> Result<User, ClientError> {
        let path = format!("/users/{handle}");
        self.send(self.request(Method::PATCH, &path).json(body), &path)
            .await
    }

    /// Sets a person's web UI password (their own, or anyone's for an admin); their
    /// web sessions end.
    pub async fn set_password(
        &self,
        handle: &Handle,
        body: &klaxon_domain::api::NewPassword,
    ) -> Result<(), ClientError> {
        let path = format!("/users/{handle}/password");
        let response = self
            .request(Method::PUT, &path)
            .json(body)
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        self.check(response).await.map(|_| ())
    }

    pub async fn tokens(&self) -> Result<Vec<TokenInfo>, ClientError> {
        self.get("/tokens").await
    }

    /// Creates a token; the answer holds its secret, which the server never shows again.
    pub async fn create_token(&self, body: &NewToken) -> Result<CreatedToken, ClientError> {
        self.post("/tokens", body).await
    }

    pub async fn revoke_token(&self, id: TokenId) -> Result<TokenInfo, ClientError> {
        self.post_empty(&format!("/tokens/{id}/revoke")).await
    }

    /// Who the token belongs to.
    pub async fn me(&self) -> Result<Me, ClientError> {
        self.get("/me").await
    }

    /// One page of alerts, newest first; `next_before` is the next page's `before`.
    pub async fn alerts(&self, query: &AlertQuery) -> Result<AlertPage, ClientError> {
        let request = self.request(Method::GET, "/alerts").query(query);
        self.send(request, "/alerts").await
    }

    /// One alert with the newest entries of its log (`query.log`, 100 by default).
    pub async fn alert(
        &self,
        id: AlertId,
        query: &AlertShowQuery,
    ) -> Result<AlertDetail, ClientError> {
        let path = format!("/alerts/{id}");
        let request = self.request(Method::GET, &path).query(query);
        self.send(request, &path).await
    }

    pub async fn ack_alert(&self, id: AlertId) -> Result<Alert, ClientError> {
        self.post_empty(&format!("/alerts/{id}/ack")).await
    }

    pub async fn resolve_alert(&self, id: AlertId) -> Result<Alert, ClientError> {
        self.post_empty(&format!("/alerts/{id}/resolve")).await
    }

    /// Sends a trigger to the Events API v2 (`/v2/enqueue`) as a monitoring tool would,
    /// with `routing_key` instead of the token; returns the dedup key.
    pub async fn send_event(&self, body: &serde_json::Value) -> Result<String, ClientError> {
        let url = format!("{}/v2/enqueue", self.base_url);
        let response = self
            .http
            .post(&url)
            .json(body)
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| self.transport(e))?;
        let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        if !status.is_success() {
            let errors = answer["errors"].as_array().map(|e| {
                e.iter()
                    .filter_map(|m| m.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            });
            let detail = errors
                .filter(|e| !e.is_empty())
                .unwrap_or_else(|| format!("the server answered {status}"));
            return Err(ClientError::Api(Problem {
                kind: "about:blank".into(),
                title: status.canonical_reason().unwrap_or("error").into(),
                status: status.as_u16(),
                detail,
                errors: Vec::new(),
            }));
        }
        answer["dedup_key"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| ClientError::Decode {
                url,
                message: "the answer has no dedup_key".into(),
            })
    }

    pub async fn heartbeats(&self) -> Result<Vec<Heartbeat>, ClientError> {
        self.get("/heartbeats").await
    }

    /// Creates a heartbeat monitor; the answer holds the key to ping.
    pub async fn create_heartbeat(&self, body: &NewHeartbeat) -> Result<Heartbeat, ClientError> {
        self.post("/heartbeats", body).await
    }

    pub async fn services(&self) -> Result<Vec<Service>, ClientError> {
        self.get("/services").await
    }

    /// Creates a service; an admin's answer holds its first integration key.
    pub async fn create_service(&self, body: &NewService) -> Result<Service, ClientError> {
        self.post("/services", body).await
    }

    pub async fn service(&self, name: &ServiceName) -> Result<Service, ClientError> {
        self.get(&format!("/services/{name}")).await
    }

    pub async fn update_service(
        &self,
        name: &ServiceName,
        body: &ServiceUpdate,
    ) -> Result<Service, ClientError> {
        let path = format!("/services/{name}");
        self.send(self.request(Method::PATCH, &path).json(body), &path)
            .await
    }

    pub async fn delete_service(&self, name: &ServiceName) -> Result<(), ClientError> {
        let path = format!("/services/{name}");
        let response = self
            .request(Method::DELETE, &path)
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        self.check(response).await.map(|_| ())
    }

    pub async fn maintenance(
        &self,
        name: &ServiceName,
    ) -> Result<Vec<MaintenanceWindow>, ClientError> {
        self.get(&format!("/services/{name}/maintenance")).await
    }

    pub async fn add_maintenance(
        &self,
        name: &ServiceName,
        body: &NewMaintenance,
    ) -> Result<MaintenanceWindow, ClientError> {
        self.post(&format!("/services/{name}/maintenance"), body)
            .await
    }

    pub async fn remove_maintenance(
        &self,
        name: &ServiceName,
        id: MaintenanceId,
    ) -> Result<(), ClientError> {
        let path = format!("/services/{name}/maintenance/{id}");
        let response = self
            .request(Method::DELETE, &path)
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        self.check(response).await.map(|_| ())
    }

    pub async fn add_integration_key(
        &self,
        name: &ServiceName,
    ) -> Result<IntegrationKey, ClientError> {
        self.post_empty(&format!("/services/{name}/keys")).await
    }

    /// Replaces key `id` with a new one; the old key stops working at once.
    pub async fn rotate_integration_key(
        &self,
        name: &ServiceName,
        id: KeyId,
    ) -> Result<IntegrationKey, ClientError> {
        self.post_empty(&format!("/services/{name}/keys/{id}/rotate"))
            .await
    }

    pub async fn revoke_integration_key(
        &self,
        name: &ServiceName,
        id: KeyId,
    ) -> Result<IntegrationKey, ClientError> {
        self.post_empty(&format!("/services/{name}/keys/{id}/revoke"))
            .await
    }

    async fn delete(&self, path: &str) -> Result<(), ClientError> {
        let response = self
            .request(Method::DELETE, path)
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        self.check(response).await.map(|_| ())
    }

    async fn put<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        self.send(self.request(Method::PUT, path).json(body), path)
            .await
    }

    /// A GET whose answer is text, not JSON (calendar feeds).
    async fn get_text(&self, path: &str) -> Result<String, ClientError> {
        let response = self
            .request(Method::GET, path)
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        let body = self.check(response).await?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.send(self.request(Method::GET, path), path).await
    }

    async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        self.send(self.request(Method::POST, path).json(body), path)
            .await
    }

    async fn post_empty<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.send(self.request(Method::POST, path), path).await
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, self.api_url(path))
            .bearer_auth(&self.token)
            .header(SOURCE_HEADER, &self.source)
    }

    fn api_url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base_url)
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        path: &str,
    ) -> Result<T, ClientError> {
        let response = request.send().await.map_err(|e| self.transport(e))?;
        let body = self.check(response).await?;
        serde_json::from_slice(&body).map_err(|e| ClientError::Decode {
            url: self.api_url(path),
            message: e.to_string(),
        })
    }

    /// The body of a 2xx answer, or the problem the server reported.
    async fn check(&self, response: Response) -> Result<Vec<u8>, ClientError> {
        let status = response.status();
        let body = response.bytes().await.map_err(|e| self.transport(e))?;
        if status.is_success() {
            return Ok(body.to_vec());
        }
        Err(ClientError::Api(problem_from(status, &body)))
    }

    fn transport(&self, error: reqwest::Error) -> ClientError {
        ClientError::Transport(format!(
            "cannot reach Klaxon at {}: {}",
            self.base_url,
            root_cause(&error)
        ))
    }
}

fn action(n: IncidentNumber, verb: &str) -> String {
    format!("/incidents/{}/{verb}", n.0)
}

/// The server's problem body, or one made up from the status and whatever it sent.
fn problem_from(status: StatusCode, body: &[u8]) -> Problem {
    if let Ok(problem) = serde_json::from_slice::<Problem>(body) {
        return problem;
    }
    let title = status.canonical_reason().unwrap_or("error").to_owned();
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let detail = if text.is_empty() {
        format!("the server answered {status}")
    } else {
        format!("the server answered {status}: {}", clip(text, 500))
    };
    Problem {
        kind: "about:blank".to_owned(),
        title,
        status: status.as_u16(),
        detail,
        errors: Vec::new(),
    }
}

fn clip(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

/// The innermost message of an error chain: "Connection refused" rather than reqwest's
/// "error sending request for url (...)".
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut messages = vec![error.to_string()];
    let mut source = error.source();
    while let Some(e) = source {
        messages.push(e.to_string());
        source = e.source();
    }
    let mut last = messages.pop().unwrap_or_default();
    if error.is::<reqwest::Error>() && messages.len() == 1 {
        // Only reqwest's own wrapper: say what it says, it is all there is.
        last = messages.pop().unwrap_or(last);
    }
    let last = last.trim();
    // Lower-case the first letter so the message reads on after the colon.
    let mut chars = last.chars();
    match chars.next() {
        Some(first)
            if first.is_uppercase() && !chars.clone().next().is_some_and(char::is_uppercase) =>
        {
            first.to_lowercase().collect::<String>() + chars.as_str()
        }
        _ => last.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_bodies_are_kept_and_others_are_summarised() {
        let body = br#"{"type":"about:blank","title":"Not Found","status":404,"detail":"incident #9 does not exist"}"#;
        let p = problem_from(StatusCode::NOT_FOUND, body);
        assert_eq!(p.detail, "incident #9 does not exist");

        let p = problem_from(StatusCode::BAD_GATEWAY, b"upstream gone\n");
        assert_eq!(p.status, 502);
        assert_eq!(p.title, "Bad Gateway");
        assert_eq!(
            p.detail,
            "the server answered 502 Bad Gateway: upstream gone"
        );
        assert_eq!(
            ClientError::Api(p).to_string(),
            "the server answered 502 Bad Gateway: upstream gone"
        );
    }

    #[test]
    fn debug_output_hides_the_token() {
        let c = Client::new("http://localhost:1/", "s3cret");
        assert_eq!(c.base_url(), "http://localhost:1");
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[tokio::test]
    async fn an_unreachable_server_names_its_url() {
        // Port 1 on localhost: nothing listens there.
        let c = Client::new("http://127.0.0.1:1", "t");
        let err = c.healthz().await.unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ClientError::Transport(_)), "{err:?}");
        assert!(
            text.starts_with("cannot reach Klaxon at http://127.0.0.1:1: "),
            "{text}"
        );
    }
}
