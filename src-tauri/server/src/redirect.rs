//! Where GoTrue sends a browser, and what its emails' links point back to: `GetReferrer` and
//! `IsRedirectURLValid` (`internal/utilities/request.go`). This server has a site URL and no
//! additional redirect allow list, so a `redirect_to` is accepted when it is the site (same
//! scheme and host; any port for a loopback host) or any loopback IP address, as GoTrue
//! accepts those without an allow-list entry.

use std::net::IpAddr;

use axum::http::HeaderMap;
use url::Url;

use crate::state::AppState;

/// GoTrue's `GetReferrer`: the request's `redirect_to` (a `redirect_to` header, else the query
/// parameter) when valid, else its `Referer` when valid, else the site URL.
pub fn referrer(state: &AppState, query: Option<&str>, headers: &HeaderMap) -> String {
    let site = &state.config.site_url;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let asked = header("redirect_to")
        .filter(|v| !v.is_empty())
        .or_else(|| crate::routes::query_param(query, "redirect_to"))
        .unwrap_or_default();
    if is_valid(site, &asked) {
        return asked;
    }
    match header("referer") {
        Some(referer) if is_valid(site, &referer) => referer,
        _ => site.clone(),
    }
}

/// GoTrue's `IsRedirectURLValid` with an empty allow list. Host names are compared as
/// written (Go's parser keeps `2130706433` or `0x7f.1` as names, where a WHATWG parser would
/// turn them into 127.0.0.1).
pub fn is_valid(site_url: &str, candidate: &str) -> bool {
    if candidate.is_empty() {
        return false;
    }
    let (Ok(base), Ok(target)) = (Url::parse(site_url), Url::parse(candidate)) else {
        return false;
    };
    let (Some(base_host), Some(hostname)) = (written_host(site_url), written_host(candidate))
    else {
        return false;
    };
    if base_host.eq_ignore_ascii_case(&hostname)
        && base.scheme() == target.scheme()
        && (base.port() == target.port() || is_localhost(&hostname))
    {
        return true;
    }
    if !hostname.is_empty() && hostname.bytes().all(|b| b.is_ascii_digit()) {
        // An IPv4 address written as one decimal number.
        return false;
    }
    match hostname.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        // Otherwise only an allow-list entry could admit it, and there is none.
        Err(_) => false,
    }
}

/// The host of a URL as written: between `//` (and any `user@`) and the port or path, IPv6
/// brackets removed.
fn written_host(url: &str) -> Option<String> {
    let rest = &url[url.find("//")? + 2..];
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(inner) => inner.split(']').next().unwrap_or(""),
        None => host_port.rsplit_once(':').map_or(host_port, |(h, _)| h),
    };
    Some(host.to_string())
}

fn is_localhost(hostname: &str) -> bool {
    matches!(
        hostname.to_ascii_lowercase().as_str(),
        "localhost" | "127.0.0.1" | "::1" | "0.0.0.0" | "::"
    )
}

/// GoTrue's `encodeRedirectURL` for the `redirect_to` of an email link: escaped only when it
/// holds `&`, `=` or `#` (otherwise it is taken to be escaped already).
pub fn encode_for_link(redirect_to: &str) -> String {
    if redirect_to.contains(['&', '=', '#']) {
        form_urlencoded::byte_serialize(redirect_to.as_bytes()).collect()
    } else {
        redirect_to.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SITE: &str = "http://127.0.0.1:3000";

    #[test]
    fn the_site_and_loopback_addresses_are_valid_and_nothing_else() {
        for ok in [
            "http://127.0.0.1:3000/welcome",
            "http://127.0.0.1:5173/",
            "http://127.0.0.1/cb",
            "https://[::1]:8443/x",
            "http://127.0.0.2:1/",
        ] {
            assert!(is_valid(SITE, ok), "{ok}");
        }
        for no in [
            "",
            "https://evil.example/",
            "http://localhost:3000/",
            "http://2130706433/",
            "http://0x7f.1/",
            "not a url",
            "javascript:alert(1)",
        ] {
            assert!(!is_valid(SITE, no), "{no}");
        }
        assert!(is_valid("http://localhost:3000", "http://localhost:4000/x"));
    }

    #[test]
    fn links_escape_a_redirect_only_when_it_needs_it() {
        assert_eq!(encode_for_link("http://a/b"), "http://a/b");
        assert_eq!(
            encode_for_link("http://a/b?x=1&y=2"),
            "http%3A%2F%2Fa%2Fb%3Fx%3D1%26y%3D2"
        );
    }
}
