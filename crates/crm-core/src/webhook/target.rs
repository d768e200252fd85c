//! Where a webhook may send (SSRF): the URL rule checked when a subscription is written, and
//! the address rule the transport adapter applies to every address a name resolves to
//! before it connects (the adapter connects only to an address it checked).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

/// What the configuration allows besides public addresses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetPolicy {
    /// Loopback targets (`127.0.0.0/8`, `::1`, `localhost`), over `http` too: tests and
    /// local development only.
    pub allow_loopback: bool,
    /// Private, link-local, shared and unique-local targets (`10/8`, `172.16/12`,
    /// `192.168/16`, `169.254/16`, `100.64/10`, `fc00::/7`, `fe80::/10`).
    pub allow_private: bool,
}

/// The class of an address, as far as SSRF goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressClass {
    /// A public address.
    Public,
    /// Loopback.
    Loopback,
    /// Private, link-local (cloud metadata), shared or unique-local.
    Private,
    /// Unspecified, multicast, broadcast, documentation or reserved: never a target.
    Forbidden,
}

/// The class of `ip` (an IPv4-mapped IPv6 address is classed as its IPv4 address).
pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => classify_v4(v4),
            None => classify_v6(v6),
        },
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        AddressClass::Loopback
    } else if ip.is_private() || ip.is_link_local() || (a == 100 && (64..128).contains(&b)) {
        AddressClass::Private
    } else if ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || a >= 240
    {
        AddressClass::Forbidden
    } else {
        AddressClass::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        AddressClass::Loopback
    } else if (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80 {
        AddressClass::Private
    } else if ip.is_unspecified() || ip.is_multicast() || first == 0x2001 && ip.segments()[1] == 0x0db8 {
        AddressClass::Forbidden
    } else {
        AddressClass::Public
    }
}

impl TargetPolicy {
    /// Why the address may not be a target, if it may not.
    pub fn refusal(&self, ip: IpAddr) -> Option<String> {
        match classify(ip) {
            AddressClass::Public => None,
            AddressClass::Loopback if self.allow_loopback => None,
            AddressClass::Private if self.allow_private => None,
            AddressClass::Loopback => Some(format!("{ip} is a loopback address")),
            AddressClass::Private => Some(format!("{ip} is a private or link-local address")),
            AddressClass::Forbidden => Some(format!("{ip} is not a routable unicast address")),
        }
    }

    /// Checks a subscription's URL: absolute `https` (or `http` to an allowed loopback
    /// target), no credentials, no fragment, at most 2,000 characters, and a host that is
    /// not a refused address (names are checked again, resolved, by the transport).
    ///
    /// # Errors
    /// The reason, for the `url` field.
    pub fn check_url(&self, raw: &str) -> Result<url::Url, String> {
        if raw.len() > 2_000 {
            return Err("is longer than 2000 characters".into());
        }
        let url = url::Url::parse(raw).map_err(|e| format!("is not an absolute URL ({e})"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry credentials".into());
        }
        if url.fragment().is_some() {
            return Err("must not have a fragment".into());
        }
        let loopback = match url.host() {
            Some(url::Host::Ipv4(ip)) => self.refusal(IpAddr::V4(ip)).map_or(Ok(ip.is_loopback()), Err)?,
            Some(url::Host::Ipv6(ip)) => self.refusal(IpAddr::V6(ip)).map_or(Ok(ip.is_loopback()), Err)?,
            Some(url::Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                let local = name == "localhost" || name.ends_with(".localhost");
                if local && !self.allow_loopback {
                    return Err(format!("{name} is a loopback name"));
                }
                local
            }
            None => return Err("has no host".into()),
        };
        match url.scheme() {
            "https" => Ok(url),
            "http" if loopback => Ok(url),
            "http" => Err("must use https".into()),
            other => Err(format!("has the scheme {other}; only https is allowed")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_private_and_loopback_addresses_are_refused_unless_allowed() {
        let strict = TargetPolicy::default();
        for url in [
            "https://169.254.169.254/latest/meta-data",
            "https://10.0.0.1/hook",
            "https://[::1]/hook",
            "https://127.0.0.1/hook",
            "https://localhost/hook",
            "https://192.168.1.20/hook",
            "https://[fe80::1]/hook",
            "https://[::ffff:10.0.0.1]/hook",
            "https://0.0.0.0/hook",
            "https://100.64.0.1/hook",
        ] {
            assert!(strict.check_url(url).is_err(), "{url}");
        }
        assert!(strict.check_url("https://hooks.example.com/in").is_ok());
        assert!(strict.check_url("https://93.184.216.34/in").is_ok());
        assert_eq!(strict.check_url("http://hooks.example.com/in").unwrap_err(), "must use https");
        assert!(strict.check_url("https://user:pw@hooks.example.com/").is_err());
        assert!(strict.check_url("ftp://hooks.example.com/").is_err());
        assert!(strict.check_url("not a url").is_err());

        let tests = TargetPolicy { allow_loopback: true, allow_private: false };
        assert!(tests.check_url("http://127.0.0.1:8080/hook").is_ok());
        assert!(tests.check_url("http://localhost:8080/hook").is_ok());
        assert!(tests.check_url("https://[::1]/hook").is_ok());
        assert!(tests.check_url("https://10.0.0.1/hook").is_err());
        let private = TargetPolicy { allow_loopback: false, allow_private: true };
        assert!(private.check_url("https://10.0.0.1/hook").is_ok());
        assert!(private.check_url("http://10.0.0.1/hook").is_err());
    }
}
