//! Where URLs that users give Klaxon (webhook contact methods) may point. A user who may
//! add a contact method must not be able to make the server call its own admin ports,
//! another host on its private network or the cloud's metadata service. So such URLs
//! may reach only public addresses, unless an admin allows a range in the server's
//! configuration (`--allow-outbound 10.1.0.0/16`). The address is checked when the URL
//! is given, and again on every request after the name is resolved (the resolver drops
//! refused addresses, so a name that later resolves to a private address reaches
//! nothing); redirects are not followed, so a public URL cannot bounce to a private one.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The ranges user-supplied URLs may reach beyond public addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundGuard {
    allowed: Arc<Vec<IpNet>>,
}

impl OutboundGuard {
    /// A guard allowing public addresses and `allowed`.
    pub fn new(allowed: Vec<IpNet>) -> Self {
        Self {
            allowed: Arc::new(allowed),
        }
    }

    /// Parses ranges such as `10.0.0.0/8`, `127.0.0.1` (one address) or `fd00::/8`.
    pub fn parse(ranges: &[String]) -> Result<Self, String> {
        let allowed = ranges
            .iter()
            .map(|text| {
                let text = text.trim();
                text.parse::<IpNet>()
                    .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!("--allow-outbound: '{text}' is not an address range such as 10.0.0.0/8 or fd00::/8")
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self::new(allowed))
    }

    /// `Ok` when user-supplied URLs may reach `ip`; otherwise what kind of address it is.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), &'static str> {
        let ip = canonical(ip);
        if self.allowed.iter().any(|range| range.contains(&ip)) {
            return Ok(());
        }
        match refused_kind(ip) {
            Some(kind) => Err(kind),
            None => Ok(()),
        }
    }

    /// Checks a URL as it is given: its scheme, and its host if it is an address or a
    /// name that resolves now. A name that does not resolve yet is let through; every
    /// request checks again.
    pub async fn check_url(&self, url: &str) -> Result<(), String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("'{url}' is not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("'{url}' is not an http:// or https:// URL"));
        }
        let refused = |ip: IpAddr, kind: &str| {
            format!(
                "'{url}' points at {ip}, {kind}; Klaxon calls only public addresses unless an admin allows the range (--allow-outbound)"
            )
        };
        let port = parsed.port_or_known_default().unwrap_or(80);
        match parsed.host() {
            Some(url::Host::Ipv4(ip)) => {
                self.check_ip(ip.into()).map_err(|k| refused(ip.into(), k))
            }
            Some(url::Host::Ipv6(ip)) => {
                self.check_ip(ip.into()).map_err(|k| refused(ip.into(), k))
            }
            Some(url::Host::Domain(name)) => {
                let Ok(addrs) = tokio::net::lookup_host((name, port)).await else {
                    return Ok(());
                };
                for addr in addrs {
                    self.check_ip(addr.ip())
                        .map_err(|k| refused(addr.ip(), k))?;
                }
                Ok(())
            }
            None => Err(format!("'{url}' has no host")),
        }
    }

    /// An HTTP client for user-supplied URLs: it resolves names through this guard,
    /// refuses addresses given in the URL itself the same way, and follows no redirect.
    pub(crate) fn client(&self, timeout: Duration) -> reqwest::Client {
        reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(GuardedResolver {
                guard: self.clone(),
            }))
            .build()
            .expect("the rustls HTTP client always builds")
    }

    /// Refuses a URL whose host is an address this guard refuses (the resolver never
    /// sees those).
    pub(crate) fn check_literal(&self, url: &str) -> Result<(), String> {
        let Ok(parsed) = reqwest::Url::parse(url) else {
            return Ok(());
        };
        let ip: IpAddr = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => ip.into(),
            Some(url::Host::Ipv6(ip)) => ip.into(),
            _ => return Ok(()),
        };
        self.check_ip(ip)
            .map_err(|kind| format!("the URL points at {ip}, {kind}, which is not allowed"))
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`) are judged as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// What kind of non-public address `ip` is, if it is one.
fn refused_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip == Ipv4Addr::new(169, 254, 169, 254) || ip == Ipv4Addr::new(100, 100, 100, 200) {
        Some("a cloud metadata address")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if ip.is_private() {
        Some("a private address")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a shared (carrier-grade NAT) address")
    } else if ip.is_unspecified() || a == 0 {
        Some("an unspecified address")
    } else if ip.is_broadcast() || ip.is_multicast() || a >= 240 {
        Some("a broadcast, multicast or reserved address")
    } else {
        None
    }
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        Some("a cloud metadata address")
    } else if ip.is_unspecified() {
        Some("an unspecified address")
    } else if first & 0xffc0 == 0xfe80 {
        Some("a link-local address")
    } else if first & 0xfe00 == 0xfc00 {
        Some("a private (unique local) address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else {
        None
    }
}

/// A name that resolved only to refused addresses: retrying will not help.
#[derive(Debug)]
pub(crate) struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// Resolves names as the system does, then drops the addresses the guard refuses.
struct GuardedResolver {
    guard: OutboundGuard,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.guard.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| guard.check_ip(a.ip()).is_ok())
                .collect();
            if allowed.is_empty() && !found.is_empty() {
                let refused: Box<dyn std::error::Error + Send + Sync> = Box::new(Refused(format!(
                    "{host} resolves only to addresses Klaxon may not call ({}); an admin can allow the range with --allow-outbound",
                    found[0].ip()
                )));
                return Err(refused);
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(guard: &OutboundGuard, ip: &str) -> bool {
        guard.check_ip(ip.parse().unwrap()).is_err()
    }

    #[test]
    fn private_and_special_addresses_are_refused() {
        let guard = OutboundGuard::default();
        for ip in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.1.1",
            "100.64.0.1",
            "100.100.100.200",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(refused(&guard, ip), "{ip} must be refused");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "100.128.0.1"] {
            assert!(!refused(&guard, ip), "{ip} is public");
        }
        assert_eq!(
            guard.check_ip("169.254.169.254".parse().unwrap()),
            Err("a cloud metadata address")
        );
    }

    #[test]
    fn an_allowed_range_is_let_through_and_nothing_else() {
        let guard = OutboundGuard::parse(&["10.1.0.0/16".into(), "127.0.0.1".into()]).unwrap();
        assert!(!refused(&guard, "10.1.200.3"));
        assert!(!refused(&guard, "127.0.0.1"));
        assert!(refused(&guard, "10.2.0.1"));
        assert!(refused(&guard, "127.0.0.2"));
        assert!(refused(&guard, "169.254.169.254"));
        let err = OutboundGuard::parse(&["ten.0.0.0/8".into()]).unwrap_err();
        assert!(
            err.contains("'ten.0.0.0/8' is not an address range"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn urls_are_checked_by_their_address_or_resolved_name() {
        let guard = OutboundGuard::default();
        let err = guard
            .check_url("http://169.254.169.254/latest/meta-data/")
            .await
            .unwrap_err();
        assert!(
            err.contains("169.254.169.254, a cloud metadata address"),
            "{err}"
        );
        assert!(guard.check_url("http://[::1]:8080/hook").await.is_err());
        let err = guard
            .check_url("http://localhost:9000/hook")
            .await
            .unwrap_err();
        assert!(err.contains("a loopback address"), "{err}");
        assert!(guard.check_url("ftp://example.com/").await.is_err());
        // A name that does not resolve here is checked at every request instead.
        assert!(guard
            .check_url("https://hooks.example.invalid/x")
            .await
            .is_ok());
        assert!(guard.check_literal("http://10.0.0.1/").is_err());
        assert!(guard.check_literal("https://hooks.example.com/").is_ok());
    }
}
