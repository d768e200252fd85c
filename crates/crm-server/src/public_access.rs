//! How the public self-service search (KNO-1) finds its tenant and its client: the
//! `[public]` table maps host names to tenants' public slugs (`help.acme.example` →
//! `acme`, read from the `Host` header), and lists the reverse proxies trusted to say who
//! the client is in `X-Forwarded-For` (the per-client rate limit's key). The header of any
//! other peer is ignored: a client cannot pick its own rate-limit key.
//!
//! ```toml
//! [public]
//! hosts = { "help.acme.example" = "acme" }
//! trusted_proxies = ["10.0.0.2", "::1"]
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;

use serde::Deserialize;

/// The `[public]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicFile {
    /// Host name → tenant public slug.
    #[serde(default)]
    pub hosts: BTreeMap<String, String>,
    /// The addresses of the reverse proxies whose `X-Forwarded-For` is believed.
    #[serde(default)]
    pub trusted_proxies: Vec<IpAddr>,
}

impl PublicFile {
    /// The settings (host names compared without case and port).
    pub fn resolve(self) -> PublicSettings {
        PublicSettings {
            hosts: self.hosts.into_iter().map(|(h, slug)| (bare_host(&h), slug)).collect(),
            trusted_proxies: self.trusted_proxies.into_iter().collect(),
        }
    }
}

/// The public search's host map and trusted proxies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PublicSettings {
    /// Bare host name (lower case, no port) → tenant public slug.
    pub hosts: HashMap<String, String>,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: HashSet<IpAddr>,
}

/// A `Host` value without its port, in lower case (`Help.Acme.example:8443` →
/// `help.acme.example`, `[::1]:80` → `[::1]`).
fn bare_host(host: &str) -> String {
    let host = host.trim();
    let without_port = if host.starts_with('[') {
        host.split_inclusive(']').next().unwrap_or(host)
    } else {
        host.rsplit_once(':').map_or(host, |(h, port)| if port.chars().all(|c| c.is_ascii_digit()) { h } else { host })
    };
    without_port.trim_end_matches('.').to_ascii_lowercase()
}

impl PublicSettings {
    /// The public slug of the tenant served at `host` (a `Host` header), if mapped.
    pub fn slug_for_host(&self, host: &str) -> Option<&str> {
        self.hosts.get(&bare_host(host)).map(String::as_str)
    }

    /// The client's address: the peer's, unless the peer is a trusted proxy; then the
    /// right-most address of `X-Forwarded-For` that is not a trusted proxy (proxies
    /// append; what is left of the first untrusted hop is the client's to forge). An
    /// unreadable hop stops the walk at the last address read. `unknown` without a peer.
    pub fn client_address(&self, peer: Option<IpAddr>, forwarded_for: &[&str]) -> String {
        let Some(peer) = peer else { return "unknown".to_owned() };
        if !self.trusted_proxies.contains(&peer) {
            return peer.to_string();
        }
        let mut client = peer;
        let hops = forwarded_for.iter().rev().flat_map(|h| h.rsplit(',')).map(str::trim);
        for hop in hops {
            match hop.parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip;
                    if !self.trusted_proxies.contains(&ip) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        client.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> PublicSettings {
        PublicFile {
            hosts: BTreeMap::from([("Help.Acme.example".to_owned(), "acme".to_owned())]),
            trusted_proxies: vec!["10.0.0.2".parse().unwrap(), "10.0.0.3".parse().unwrap()],
        }
        .resolve()
    }

    #[test]
    fn hosts_are_matched_without_case_or_port() {
        let s = settings();
        for host in ["help.acme.example", "HELP.ACME.EXAMPLE:8443", "help.acme.example."] {
            assert_eq!(s.slug_for_host(host), Some("acme"), "{host}");
        }
        assert_eq!(s.slug_for_host("other.example"), None);
        assert_eq!(bare_host("[::1]:80"), "[::1]");
    }

    #[test]
    fn forwarded_for_is_believed_from_trusted_proxies_only() {
        let s = settings();
        let ip = |t: &str| Some(t.parse::<IpAddr>().unwrap());
        // An untrusted peer's header is ignored.
        assert_eq!(s.client_address(ip("203.0.113.9"), &["198.51.100.1"]), "203.0.113.9");
        // A trusted proxy: the right-most untrusted hop, whatever the client put left of it.
        assert_eq!(s.client_address(ip("10.0.0.2"), &["1.1.1.1, 198.51.100.7"]), "198.51.100.7");
        assert_eq!(s.client_address(ip("10.0.0.2"), &["1.1.1.1", "198.51.100.7, 10.0.0.3"]), "198.51.100.7");
        // No header, or only proxies: the last address read.
        assert_eq!(s.client_address(ip("10.0.0.2"), &[]), "10.0.0.2");
        assert_eq!(s.client_address(ip("10.0.0.2"), &["10.0.0.3"]), "10.0.0.3");
        // Garbage stops the walk.
        assert_eq!(s.client_address(ip("10.0.0.2"), &["198.51.100.7, nonsense"]), "10.0.0.2");
        assert_eq!(s.client_address(None, &["198.51.100.7"]), "unknown");
    }
}
