//! Where a webhook may point: never at this machine, its private network, or the cloud's
//! metadata service, unless the server runs with `ROLLCALL_WEBHOOK_ALLOW_PRIVATE=1`.
//!
//! The check runs three times: when a webhook is added (its URL, and every address its host
//! name resolves to), at every delivery on the addresses the connection will actually use (a
//! resolver that refuses names resolving to a forbidden address, so a name that changes its
//! answer after the webhook was added gains nothing), and on redirects, which are never
//! followed: a 3xx answer is a failed attempt.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The variable that lets webhooks reach private and loopback addresses (development, tests).
pub const ALLOW_PRIVATE_VARIABLE: &str = "ROLLCALL_WEBHOOK_ALLOW_PRIVATE";

/// Whether `ROLLCALL_WEBHOOK_ALLOW_PRIVATE` is set to `1` or `true`.
pub fn allow_private_from_env() -> bool {
    matches!(
        std::env::var(ALLOW_PRIVATE_VARIABLE).as_deref(),
        Ok("1" | "true")
    )
}

/// Why an address may not be a webhook's target, or `None` when it may.
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("a loopback address")
            } else if v6.is_unspecified() {
                Some("the unspecified address")
            } else if first & 0xfe00 == 0xfc00 {
                Some("a private (unique local) address")
            } else if first & 0xffc0 == 0xfe80 {
                Some("a link-local address")
            } else if v6.is_multicast() {
                Some("a multicast address")
            } else if v6.segments()[..6] == [0, 0, 0, 0, 0, 0] {
                // The deprecated IPv4-compatible form reaches an IPv4 address too.
                forbidden_v4(Ipv4Addr::from_bits(
                    (u32::from(v6.segments()[6]) << 16) | u32::from(v6.segments()[7]),
                ))
            } else {
                None
            }
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_private() {
        Some("a private address")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if ip.is_unspecified() || a == 0 {
        Some("the unspecified address")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a shared (carrier-grade NAT) address")
    } else if ip.is_broadcast() || ip.is_multicast() || a >= 240 {
        Some("a broadcast, multicast or reserved address")
    } else {
        None
    }
}

/// Checks a webhook URL when it is added: http or https, a host, no credentials, and (unless
/// private targets are allowed) a host that resolves only to public addresses. Answers the
/// parsed URL, or one sentence saying what is wrong.
pub async fn check_url(text: &str, allow_private: bool) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|err| format!("{text:?} is not a URL: {err}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "a webhook URL must start with https:// (or http://), not {}://",
            url.scheme()
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "a webhook URL must not hold credentials; every delivery is signed instead".to_owned(),
        );
    }
    let Some(host) = url.host_str().filter(|host| !host.is_empty()) else {
        return Err(format!("the webhook URL {text:?} names no host"));
    };
    if allow_private {
        return Ok(url);
    }
    if let Some(reason) = literal_reason(&url) {
        return Err(refusal(host, reason));
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|err| format!("the webhook host {host:?} does not resolve: {err}"))?
        .collect();
    if addresses.is_empty() {
        return Err(format!("the webhook host {host:?} resolves to no address"));
    }
    if let Some((address, reason)) = addresses
        .iter()
        .find_map(|address| forbidden(address.ip()).map(|reason| (address.ip(), reason)))
    {
        return Err(refusal(&host, &format!("{reason} ({address})")));
    }
    Ok(url)
}

/// Why a URL whose host is an IP address may not be used, if it may not. Names are left to
/// the resolver.
pub fn literal_reason(url: &Url) -> Option<&'static str> {
    match url.host()? {
        url::Host::Ipv4(ip) => forbidden(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => forbidden(IpAddr::V6(ip)),
        url::Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            (name == "localhost" || name.ends_with(".localhost")).then_some("a loopback address")
        }
    }
}

fn refusal(host: &str, reason: &str) -> String {
    format!(
        "the webhook host {host} is {reason}; webhooks may only reach public addresses \
         (set ROLLCALL_WEBHOOK_ALLOW_PRIVATE=1 for development)"
    )
}

/// A resolver for deliveries that refuses names resolving to a forbidden address.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some((ip, reason)) = addresses
                .iter()
                .find_map(|address| forbidden(address.ip()).map(|reason| (address.ip(), reason)))
            {
                let message = format!("{host} resolves to {reason} ({ip})");
                return Err(message.into());
            }
            let addresses: Addrs = Box::new(addresses.into_iter());
            Ok(addresses)
        })
    }
}

/// The resolver deliveries use: guarded, unless private targets are allowed.
pub fn resolver(allow_private: bool) -> Option<Arc<GuardedResolver>> {
    (!allow_private).then(|| Arc::new(GuardedResolver))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::net::Ipv6Addr;

    use super::*;

    #[test]
    fn private_loopback_link_local_and_reserved_addresses_are_forbidden() {
        for text in [
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "ff02::1",
        ] {
            let ip: IpAddr = text.parse().unwrap();
            assert!(forbidden(ip).is_some(), "{text} should be forbidden");
        }
        for text in [
            "93.184.216.34",
            "172.32.0.1",
            "100.128.0.1",
            "8.8.8.8",
            "2606:4700::1111",
        ] {
            let ip: IpAddr = text.parse().unwrap();
            assert_eq!(forbidden(ip), None, "{text} should be allowed");
        }
        assert_eq!(
            forbidden(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            Some("a loopback address")
        );
    }

    #[tokio::test]
    async fn urls_at_private_places_are_refused_unless_allowed() {
        let cases = [
            (
                "http://127.0.0.1:9000/hook",
                "the webhook host 127.0.0.1 is a loopback address",
            ),
            (
                "http://169.254.169.254/latest/meta-data",
                "the webhook host 169.254.169.254 is a link-local address",
            ),
            (
                "https://[::1]/hook",
                "the webhook host [::1] is a loopback address",
            ),
            (
                "http://localhost:8080/",
                "the webhook host localhost is a loopback address",
            ),
            (
                "https://10.0.0.5/hook",
                "the webhook host 10.0.0.5 is a private address",
            ),
        ];
        for (url, start) in cases {
            let refused = check_url(url, false).await.unwrap_err();
            assert!(refused.starts_with(start), "{url}: {refused}");
            assert!(refused.ends_with("(set ROLLCALL_WEBHOOK_ALLOW_PRIVATE=1 for development)"));
            assert!(
                check_url(url, true).await.is_ok(),
                "{url} with private allowed"
            );
        }
        for (url, message) in [
            (
                "ftp://example.com/x",
                "a webhook URL must start with https:// (or http://), not ftp://",
            ),
            (
                "https://user:pw@example.com/",
                "a webhook URL must not hold credentials; every delivery is signed instead",
            ),
        ] {
            assert_eq!(check_url(url, true).await.unwrap_err(), message);
        }
        assert!(
            check_url("not a url", false)
                .await
                .unwrap_err()
                .starts_with("\"not a url\" is not a URL")
        );
    }

    #[tokio::test]
    async fn the_delivery_resolver_refuses_names_that_resolve_to_loopback() {
        let name: Name = "localhost".parse().unwrap();
        let refused = GuardedResolver.resolve(name).await.err().unwrap();
        assert!(
            refused
                .to_string()
                .starts_with("localhost resolves to a loopback address"),
            "{refused}"
        );
    }
}
