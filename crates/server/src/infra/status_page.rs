//! The public status page's settings, and the copy of its view every replica keeps in
//! memory: the public routes read only this, never the database, so the page outlives a
//! database outage and costs one memory read per request.

use std::any::Any;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use jiff::Timestamp;
use klaxon_domain::status::PublicView;

/// How the public status page looks and where it is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusPageConfig {
    /// The page's name: "Acme" heads "Acme Status".
    pub name: String,
    /// The URL the page is reached at when it has a host name of its own
    /// (`https://status.example.com`); the server's public URL otherwise. On that host
    /// only the public routes answer, and `/` is the page.
    pub url: Option<String>,
    /// An image shown in the page's header instead of its name (http(s), or a path).
    pub logo_url: Option<String>,
    pub colors: StatusColors,
    /// How often each replica looks for changes made by the others.
    pub poll_interval: Duration,
}

/// The page's colours, as CSS hex colours (`#1f6feb`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusColors {
    /// Links and the header.
    pub brand: String,
    pub operational: String,
    pub degraded: String,
    pub partial: String,
    pub major: String,
    pub maintenance: String,
}

impl Default for StatusColors {
    fn default() -> Self {
        Self {
            brand: "#1f6feb".into(),
            operational: "#2da44e".into(),
            degraded: "#d4a72c".into(),
            partial: "#e16f24".into(),
            major: "#cf222e".into(),
            maintenance: "#3e7bfa".into(),
        }
    }
}

impl StatusColors {
    /// Sets one colour by its name (`brand`, `operational`, `degraded`, `partial`,
    /// `major`, `maintenance`), refusing anything that is not `#rgb` or `#rrggbb`.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let ok = value.len() == 4 || value.len() == 7;
        if !(ok && value.starts_with('#') && value[1..].bytes().all(|b| b.is_ascii_hexdigit())) {
            return Err(format!(
                "'{value}' is not a colour; write it as #rgb or #rrggbb, e.g. #1f6feb"
            ));
        }
        let slot = match name {
            "brand" => &mut self.brand,
            "operational" => &mut self.operational,
            "degraded" => &mut self.degraded,
            "partial" => &mut self.partial,
            "major" => &mut self.major,
            "maintenance" => &mut self.maintenance,
            other => {
                return Err(format!(
                    "'{other}' is not a page colour; use brand, operational, degraded, partial, major or maintenance"
                ))
            }
        };
        *slot = value.to_ascii_lowercase();
        Ok(())
    }
}

/// The default [`StatusPageConfig::poll_interval`].
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(2);

impl Default for StatusPageConfig {
    fn default() -> Self {
        Self {
            name: "Klaxon".into(),
            url: None,
            logo_url: None,
            colors: StatusColors::default(),
            poll_interval: DEFAULT_POLL_INTERVAL,
        }
    }
}

impl StatusPageConfig {
    /// Refuses settings the page cannot use: an empty name, a URL that is not http(s).
    pub fn check(&self) -> Result<(), String> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err("the status page's name is 1 to 100 characters on one line".into());
        }
        if let Some(url) = &self.url {
            if !(url.starts_with("https://") || url.starts_with("http://"))
                || url.contains(['"', '<', '>', ' '])
            {
                return Err(format!(
                    "the status page's URL '{url}' is not an http(s) URL, e.g. https://status.example.com"
                ));
            }
        }
        if let Some(logo) = &self.logo_url {
            let allowed = logo.starts_with("https://")
                || logo.starts_with("http://")
                || logo.starts_with('/');
            if !allowed || logo.contains(['"', '<', '>', ' ']) {
                return Err(format!(
                    "the status page's logo '{logo}' is not an http(s) URL or a path"
                ));
            }
        }
        if self.poll_interval.is_zero() {
            return Err("the status page's poll interval must be above zero".into());
        }
        Ok(())
    }

    /// The URL the page's links are made under: its own, or the server's public URL,
    /// without a trailing slash ("" when neither is set: links stay relative).
    pub fn base_url(&self, public_url: Option<&str>) -> String {
        self.url
            .as_deref()
            .or(public_url)
            .unwrap_or("")
            .trim_end_matches('/')
            .to_owned()
    }
}

/// One build of the page: the view, the version of the store it reflects, and whether
/// rebuilding has failed since.
pub struct PageSnapshot {
    pub view: Arc<PublicView>,
    /// The store's page version the view reflects; -1 before the first build.
    pub version: i64,
    pub built_at: Timestamp,
    /// Set while rebuilds fail (the database is down): the page says so and keeps
    /// showing this view.
    pub failing_since: Option<Timestamp>,
    /// The answers rendered from the view, made once by the edge that serves them.
    pub rendered: OnceLock<Arc<dyn Any + Send + Sync>>,
}

impl PageSnapshot {
    pub fn new(view: Arc<PublicView>, version: i64, built_at: Timestamp) -> PageSnapshot {
        PageSnapshot {
            view,
            version,
            built_at,
            failing_since: None,
            rendered: OnceLock::new(),
        }
    }
}

/// The latest snapshot, swapped whole; readers clone a pointer.
pub struct StatusPageCache {
    current: RwLock<Arc<PageSnapshot>>,
    /// Held while a rebuild runs, so that rebuilds in this process take turns.
    pub rebuilding: tokio::sync::Mutex<()>,
}

impl StatusPageCache {
    pub fn new(first: PageSnapshot) -> StatusPageCache {
        StatusPageCache {
            current: RwLock::new(Arc::new(first)),
            rebuilding: tokio::sync::Mutex::new(()),
        }
    }

    pub fn get(&self) -> Arc<PageSnapshot> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn set(&self, snapshot: PageSnapshot) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(snapshot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_and_urls_are_checked() {
        let mut c = StatusColors::default();
        assert!(c.set("brand", "#ABC").is_ok());
        assert_eq!(c.brand, "#abc");
        assert!(c.set("brand", "red").is_err());
        assert!(c.set("brand", "#12345g").is_err());
        assert!(c.set("brand", "#1234;}").is_err());
        assert!(c.set("text", "#123").is_err());
        let mut config = StatusPageConfig::default();
        assert!(config.check().is_ok());
        config.url = Some("status.example.com".into());
        assert!(config.check().is_err());
        config.url = Some("https://status.example.com/".into());
        assert_eq!(config.base_url(None), "https://status.example.com");
        config.logo_url = Some("javascript:alert(1)".into());
        assert!(config.check().is_err());
        config.url = None;
        config.logo_url = None;
        assert_eq!(
            config.base_url(Some("https://klaxon.example.com")),
            "https://klaxon.example.com"
        );
    }
}
