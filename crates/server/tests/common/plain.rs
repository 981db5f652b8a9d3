//! A browser without JavaScript, for the web UI's plain-HTTP tests: it keeps the
//! session cookie, follows no redirect and posts forms with their page's CSRF token.

use klaxon_client::Client;
use klaxon_domain::api::NewPassword;
use klaxon_domain::auth::Scope;
use klaxon_domain::Handle;
use reqwest::StatusCode;

use super::TestApp;

pub const PASSWORD: &str = "correct horse battery";

/// A browser without JavaScript: it keeps the session cookie and follows no redirect.
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    pub cookie: Option<String>,
}

pub struct Answer {
    pub status: StatusCode,
    pub location: Option<String>,
    pub set_cookie: Vec<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Browser {
    pub fn new(app: &TestApp) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: app.url.clone(),
            cookie: None,
        }
    }

    pub async fn answer(&self, request: reqwest::RequestBuilder) -> Answer {
        let request = match &self.cookie {
            Some(c) => request.header("cookie", c),
            None => request,
        };
        let r = request.send().await.unwrap();
        let header = |name: &str| {
            r.headers()
                .get_all(name)
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        let location = header("location").into_iter().next();
        let set_cookie = header("set-cookie");
        Answer {
            status: r.status(),
            location,
            set_cookie,
            headers: r.headers().clone(),
            body: r.text().await.unwrap(),
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.answer(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        self.answer(self.http.post(format!("{}{path}", self.base)).form(fields))
            .await
    }

    /// Posts a form of the page at `page`, with that page's CSRF token.
    pub async fn submit(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> Answer {
        let html = self.get(page).await.body;
        let csrf = hidden(&html, "csrf").expect("the page has a CSRF token");
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(action, &all).await
    }

    /// Signs in as `handle`, with the sign-in form's own token and cookie.
    pub async fn sign_in(&mut self, handle: &str, password: &str) -> Answer {
        let form = self.get("/login").await;
        let login_cookie = cookie_pair(&form.set_cookie, "klaxon_login").unwrap();
        let token = hidden(&form.body, "login_csrf").unwrap();
        let answer = self
            .answer(
                self.http
                    .post(format!("{}/login", self.base))
                    .header("cookie", &login_cookie)
                    .form(&[
                        ("handle", handle),
                        ("password", password),
                        ("login_csrf", &token),
                        ("next", "/"),
                    ]),
            )
            .await;
        if let Some(c) = cookie_pair(&answer.set_cookie, "klaxon_session") {
            self.cookie = Some(c);
        }
        answer
    }
}

/// The value of the hidden input `name` in a page.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_owned())
}

/// `name=value` of the cookie `name` among `Set-Cookie` headers.
pub fn cookie_pair(set_cookie: &[String], name: &str) -> Option<String> {
    set_cookie
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap().to_owned())
}

/// A user with a role and a password; their API client.
pub async fn person(app: &TestApp, handle: &str, role: Scope) -> Client {
    let client = app.user(handle, role).await;
    let new = NewPassword {
        password: PASSWORD.into(),
    };
    client
        .set_password(&Handle::parse(handle).unwrap(), &new)
        .await
        .unwrap();
    client
}

pub async fn signed_in(app: &TestApp, handle: &str, role: Scope) -> (Browser, Client) {
    let client = person(app, handle, role).await;
    let mut browser = Browser::new(app);
    let answer = browser.sign_in(handle, PASSWORD).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    (browser, client)
}

/// `text` as the pages write it, HTML-escaped.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}
