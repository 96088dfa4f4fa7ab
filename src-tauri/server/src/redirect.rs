//! Where GoTrue may send a browser back to: `redirect_to` checked against the site URL and the
//! allow list (`utilities/request.go` `IsRedirectURLValid`, `GetReferrer`), and the URL edits
//! its redirects make (`url.Values.Encode` of the query, the error fragment).
//!
//! GoTrue reads URLs with Go's `net/url`; `GoUrl` reads the parts it looks at (scheme, host
//! name, port) the same way, including Go's refusals (control characters, a bad port, a colon
//! in a scheme-less first segment), so a URL is valid here exactly when it is valid there.
//! Allow-list entries are `gobwas/glob` patterns compiled with `.` and `/` as separators.

use std::net::IpAddr;

use axum::http::HeaderMap;

use crate::state::AppState;

/// The parts of a URL GoTrue's checks read, as Go's `url.Parse` splits them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoUrl {
    /// Lowercased, as Go stores it.
    pub scheme: String,
    /// `Hostname()`: the host without port or IPv6 brackets.
    pub hostname: String,
    /// `Port()`: the digits after the host's colon, empty when none were written.
    pub port: String,
}

impl GoUrl {
    pub fn parse(text: &str) -> Option<GoUrl> {
        if text.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return None;
        }
        let (text, _fragment) = text.split_once('#').unwrap_or((text, ""));
        let (scheme, rest) = split_scheme(text)?;
        let (rest, _query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut url = GoUrl {
            scheme: scheme.to_ascii_lowercase(),
            hostname: String::new(),
            port: String::new(),
        };
        // Opaque (`mailto:x`) and path-only URLs have no host.
        if scheme.is_empty() {
            let first_segment = rest.split('/').next().unwrap_or("");
            if first_segment.contains(':') {
                return None;
            }
            return Some(url);
        }
        let Some(after) = rest.strip_prefix("//") else {
            return Some(url);
        };
        let authority = after.split('/').next().unwrap_or("");
        let host = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host);
        let (hostname, port) = split_host(host)?;
        url.hostname = hostname;
        url.port = port;
        Some(url)
    }
}

/// Go's `getScheme`: a letter, then letters, digits, `+`, `-`, `.`, up to the first colon.
/// A character outside that set before any colon means there is no scheme.
fn split_scheme(text: &str) -> Option<(&str, &str)> {
    for (i, c) in text.char_indices() {
        match c {
            'a'..='z' | 'A'..='Z' => {}
            '0'..='9' | '+' | '-' | '.' if i > 0 => {}
            ':' if i == 0 => return None, // "missing protocol scheme"
            ':' => return Some((&text[..i], &text[i + 1..])),
            _ => return Some(("", text)),
        }
    }
    Some(("", text))
}

/// Go's `parseHost` for the parts read here: `[v6]:port` or `name:port`; a port must be
/// digits; characters Go refuses in a host name fail the parse.
fn split_host(host: &str) -> Option<(String, String)> {
    let (name, port) = if let Some(bracketed) = host.strip_prefix('[') {
        let (inside, after) = bracketed.split_once(']')?;
        let port = match after {
            "" => "",
            _ => after.strip_prefix(':')?,
        };
        (inside, port)
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) => (name, port),
            None => (host, ""),
        }
    };
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let allowed = |c: char| {
        c.is_ascii_alphanumeric() || !c.is_ascii() || "-._~!$&'()*+,;=:[]<>\"%".contains(c)
    };
    if !host.starts_with('[') && !name.chars().all(allowed) {
        return None;
    }
    Some((name.to_string(), port.to_string()))
}

/// The site URL and allow list GoTrue checks `redirect_to` against.
pub struct RedirectRules {
    site_url: String,
    allow_list: Vec<Glob>,
}

impl RedirectRules {
    /// Entries that are not valid globs are skipped (GoTrue refuses to start with one).
    pub fn new(site_url: &str, allow_list: &[String]) -> RedirectRules {
        RedirectRules {
            site_url: site_url.to_string(),
            allow_list: allow_list.iter().filter_map(|p| Glob::new(p)).collect(),
        }
    }

    pub fn site_url(&self) -> &str {
        &self.site_url
    }

    /// GoTrue's `IsRedirectURLValid`.
    pub fn is_valid(&self, redirect_url: &str) -> bool {
        if redirect_url.is_empty() {
            return false;
        }
        let (Some(base), Some(target)) = (GoUrl::parse(&self.site_url), GoUrl::parse(redirect_url))
        else {
            return false;
        };
        // Back to the site itself: same scheme, host and port; any port on loopback (RFC 8252
        // §7.3: native apps listen on a port of their choosing).
        if base.hostname == target.hostname
            && base.scheme == target.scheme
            && (base.port == target.port || is_localhost(&target.hostname))
        {
            return true;
        }
        let is_http = matches!(target.scheme.as_str(), "http" | "https");
        if !target.hostname.is_empty() && target.hostname.bytes().all(|b| b.is_ascii_digit()) {
            // An IPv4 address written as one decimal number.
            return false;
        }
        if let Ok(ip) = target.hostname.parse::<IpAddr>() {
            return is_loopback(ip);
        }
        if is_http && !is_regular_hostname(&target.hostname) {
            return false;
        }
        // The fragment is never matched; the query is.
        let without_fragment = redirect_url.split('#').next().unwrap_or_default();
        self.allow_list
            .iter()
            .any(|glob| glob.matches(without_fragment))
    }

    /// GoTrue's `GetReferrer`: `redirect_to` (header, then query or form), then the
    /// `Referer` header, whichever is valid first; otherwise the site URL.
    pub fn referrer(
        &self,
        header: Option<&str>,
        param: Option<&str>,
        referer: Option<&str>,
    ) -> String {
        let requested = header.filter(|h| !h.is_empty()).or(param).unwrap_or("");
        if self.is_valid(requested) {
            return requested.to_string();
        }
        match referer {
            Some(referer) if self.is_valid(referer) => referer.to_string(),
            _ => self.site_url.clone(),
        }
    }
}

/// Go's `net.IP.IsLoopback`: 127/8 (also as an IPv4-mapped IPv6 address) and `::1`.
fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or(v6.is_loopback(), |v4| v4.is_loopback()),
    }
}

/// GoTrue's `isLocalhost`.
fn is_localhost(hostname: &str) -> bool {
    let name = hostname.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "localhost" | "127.0.0.1" | "::1" | "0.0.0.0" | "::"
    ) || name.ends_with(".localhost")
}

/// `^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$`
fn is_regular_hostname(name: &str) -> bool {
    let bytes = name.as_bytes();
    let edge = |b: &u8| b.is_ascii_alphanumeric();
    match bytes {
        [] => false,
        [only] => edge(only),
        [first, middle @ .., last] => {
            edge(first)
                && edge(last)
                && middle
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'.' || *b == b'-')
        }
    }
}

// ---- gobwas/glob -------------------------------------------------------------------------------

/// The separators GoTrue compiles its allow list with.
const SEPARATORS: [char; 2] = ['.', '/'];

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Literal(char),
    /// `?`: one character that is not a separator.
    One,
    /// `*`: any run of characters without a separator.
    Star,
    /// `**`: any run of characters.
    SuperStar,
    /// `[abc]`, `[a-z]`, `[!abc]`: one character in (or not in) the set.
    Class {
        negated: bool,
        items: Vec<(char, char)>,
    },
    /// `{a,b}`: any one of the alternatives.
    Alternatives(Vec<Vec<Token>>),
}

/// A compiled allow-list pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Glob(Vec<Token>);

impl Glob {
    /// `None` for a pattern gobwas refuses (an unclosed `[` or `{`, a trailing `\`).
    pub fn new(pattern: &str) -> Option<Glob> {
        let chars: Vec<char> = pattern.chars().collect();
        let (tokens, end) = parse_tokens(&chars, 0, false)?;
        (end == chars.len()).then_some(Glob(tokens))
    }

    pub fn matches(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        match_here(&self.0, &chars)
    }
}

/// Tokens from `at` up to the end, or (inside `{}`) up to the `,` or `}` that ends the
/// alternative; returns where it stopped.
fn parse_tokens(chars: &[char], mut at: usize, in_braces: bool) -> Option<(Vec<Token>, usize)> {
    let mut tokens = Vec::new();
    while let Some(&c) = chars.get(at) {
        match c {
            ',' | '}' if in_braces => return Some((tokens, at)),
            '\\' => {
                tokens.push(Token::Literal(*chars.get(at + 1)?));
                at += 2;
            }
            '*' if chars.get(at + 1) == Some(&'*') => {
                tokens.push(Token::SuperStar);
                at += 2;
            }
            '*' => {
                tokens.push(Token::Star);
                at += 1;
            }
            '?' => {
                tokens.push(Token::One);
                at += 1;
            }
            '[' => {
                let close = at + 1 + chars[at + 1..].iter().position(|&c| c == ']')?;
                let mut inside = &chars[at + 1..close];
                let negated = inside.first() == Some(&'!');
                if negated {
                    inside = &inside[1..];
                }
                let mut items = Vec::new();
                let mut i = 0;
                while i < inside.len() {
                    if inside.get(i + 1) == Some(&'-') && i + 2 < inside.len() {
                        items.push((inside[i], inside[i + 2]));
                        i += 3;
                    } else {
                        items.push((inside[i], inside[i]));
                        i += 1;
                    }
                }
                tokens.push(Token::Class { negated, items });
                at = close + 1;
            }
            '{' => {
                let mut alternatives = Vec::new();
                at += 1;
                loop {
                    let (alternative, stop) = parse_tokens(chars, at, true)?;
                    alternatives.push(alternative);
                    match chars.get(stop) {
                        Some(',') => at = stop + 1,
                        Some('}') => {
                            at = stop + 1;
                            break;
                        }
                        _ => return None,
                    }
                }
                tokens.push(Token::Alternatives(alternatives));
            }
            other => {
                tokens.push(Token::Literal(other));
                at += 1;
            }
        }
    }
    if in_braces {
        return None; // an unclosed `{`
    }
    Some((tokens, at))
}

fn match_here(tokens: &[Token], text: &[char]) -> bool {
    let Some((token, rest)) = tokens.split_first() else {
        return text.is_empty();
    };
    match token {
        Token::Literal(c) => text.first() == Some(c) && match_here(rest, &text[1..]),
        Token::One => text
            .first()
            .is_some_and(|c| !SEPARATORS.contains(c) && match_here(rest, &text[1..])),
        Token::Class { negated, items } => text.first().is_some_and(|c| {
            let inside = items.iter().any(|(lo, hi)| (lo..=hi).contains(&c));
            inside != *negated && match_here(rest, &text[1..])
        }),
        Token::Star => {
            let run = text.iter().take_while(|c| !SEPARATORS.contains(c)).count();
            (0..=run).any(|n| match_here(rest, &text[n..]))
        }
        Token::SuperStar => (0..=text.len()).any(|n| match_here(rest, &text[n..])),
        Token::Alternatives(alternatives) => alternatives.iter().any(|alternative| {
            let joined: Vec<Token> = alternative.iter().chain(rest).cloned().collect();
            match_here(&joined, text)
        }),
    }
}

// ---- Go's url.Values ---------------------------------------------------------------------------

/// Go's `url.QueryEscape`: unreserved characters kept, a space as `+`, the rest `%XX`.
pub fn query_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Go's `url.QueryUnescape`; `None` for a bad `%` sequence.
fn query_unescape(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = text.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// Go's `url.Values`: keys with their values in order; `encode` sorts by key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Values(Vec<(String, Vec<String>)>);

impl Values {
    /// Go's `ParseQuery`, keeping what parses (pairs with `;` or bad escapes are dropped).
    pub fn parse(query: &str) -> Values {
        let mut values = Values::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            if pair.contains(';') {
                continue;
            }
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if let (Some(key), Some(value)) = (query_unescape(key), query_unescape(value)) {
                values.add(&key, &value);
            }
        }
        values
    }

    pub fn add(&mut self, key: &str, value: &str) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some((_, list)) => list.push(value.to_string()),
            None => self.0.push((key.to_string(), vec![value.to_string()])),
        }
    }

    pub fn set(&mut self, key: &str, value: &str) {
        self.0.retain(|(k, _)| k != key);
        self.0.push((key.to_string(), vec![value.to_string()]));
    }

    pub fn get(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, list)| list.first())
            .map_or("", String::as_str)
    }

    /// The keys, in the order they first appeared.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    pub fn encode(&self) -> String {
        let mut keys: Vec<&(String, Vec<String>)> = self.0.iter().collect();
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        let mut pairs = Vec::new();
        for (key, list) in keys {
            for value in list {
                pairs.push(format!("{}={}", query_escape(key), query_escape(value)));
            }
        }
        pairs.join("&")
    }
}

/// A URL cut where Go cuts it: before the query, the query, the fragment.
struct Parts<'a> {
    head: &'a str,
    query: &'a str,
    fragment: Option<&'a str>,
}

fn parts(url: &str) -> Parts<'_> {
    let (rest, fragment) = match url.split_once('#') {
        Some((rest, fragment)) => (rest, Some(fragment)),
        None => (url, None),
    };
    let (head, query) = rest.split_once('?').unwrap_or((rest, ""));
    Parts {
        head,
        query,
        fragment,
    }
}

/// GoTrue's `prepPKCERedirectURL`: the redirect's own query (re-encoded, sorted) plus `code`;
/// its fragment stays.
pub fn with_code(url: &str, code: &str) -> String {
    let parts = parts(url);
    let mut query = Values::parse(parts.query);
    query.set("code", code);
    let mut out = format!("{}?{}", parts.head, query.encode());
    if let Some(fragment) = parts.fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// GoTrue's `redirectErrors`: the error in the redirect's query (beside its own parameters)
/// and again in the fragment (`error`, `error_code`, `error_description`, `sb`), which
/// replaces the redirect's own fragment. Go escapes the encoded fragment once more as a
/// fragment, which turns each `%` into `%25`; kept.
pub fn with_error(url: &str, error: &str, code: Option<&str>, description: &str) -> String {
    let parts = parts(url);
    let mut query = Values::parse(parts.query);
    query.set("error", error);
    query.set("error_description", description);
    let mut fragment = Values::default();
    fragment.set("error", error);
    if !description.is_empty() {
        fragment.set("error_description", description);
    }
    if let Some(code) = code {
        query.set("error_code", code);
        if !code.is_empty() {
            fragment.set("error_code", code);
        }
    }
    fragment.set("sb", "");
    format!(
        "{}?{}#{}",
        parts.head,
        query.encode(),
        fragment.encode().replace('%', "%25")
    )
}

/// `loadFlowState`'s redirect to the site URL: the error in the query only.
pub fn with_error_in_query(url: &str, error: &str, code: &str, description: &str) -> String {
    let parts = parts(url);
    let mut query = Values::parse(parts.query);
    query.set("error", error);
    query.set("error_description", description);
    query.set("error_code", code);
    let mut out = format!("{}?{}", parts.head, query.encode());
    if let Some(fragment) = parts.fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// The rules of this server's configuration: its site URL and `additional_redirect_urls`.
pub fn rules(state: &AppState) -> RedirectRules {
    RedirectRules::new(
        &state.config.site_url,
        &state.config.additional_redirect_urls,
    )
}

/// GoTrue's `GetReferrer` for a request: a `redirect_to` header, else the query parameter, else
/// the `Referer` header, whichever is valid first; otherwise the site URL.
pub fn referrer(state: &AppState, query: Option<&str>, headers: &HeaderMap) -> String {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let param = crate::routes::query_param(query, "redirect_to");
    rules(state).referrer(header("redirect_to"), param.as_deref(), header("referer"))
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

    fn rules(allow: &[&str]) -> RedirectRules {
        let allow: Vec<String> = allow.iter().map(|s| s.to_string()).collect();
        RedirectRules::new("https://app.example.com", &allow)
    }

    #[test]
    fn go_url_reads_scheme_host_and_port_as_go_does() {
        let url = GoUrl::parse("HTTP://user@Example.com:8080/x?y#z").unwrap();
        assert_eq!(
            (
                url.scheme.as_str(),
                url.hostname.as_str(),
                url.port.as_str()
            ),
            ("http", "Example.com", "8080")
        );
        let v6 = GoUrl::parse("http://[::1]:3000/cb").unwrap();
        assert_eq!((v6.hostname.as_str(), v6.port.as_str()), ("::1", "3000"));
        assert_eq!(GoUrl::parse("https://a.com:443/").unwrap().port, "443");
        assert_eq!(
            GoUrl::parse("com.example.app://callback").unwrap().hostname,
            "callback"
        );
        assert_eq!(GoUrl::parse("mailto:a@b.co").unwrap().hostname, "");
        for bad in [
            "http://a.com:port/",
            "http://a b.com/",
            ":nope",
            "a:b/c\n",
            "1a:b",
        ] {
            assert_eq!(GoUrl::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn globs_match_as_gobwas_does_with_dot_and_slash_separators() {
        let glob = |p: &str| Glob::new(p).unwrap();
        assert!(
            glob("http://127.0.0.1:*/callback/*").matches("http://127.0.0.1:5173/callback/abc-_X")
        );
        assert!(
            !glob("http://127.0.0.1:*/callback/*").matches("http://127.0.0.1:5173/callback/a/b")
        );
        assert!(!glob("http://127.0.0.1:*/callback/*").matches("http://127.0.0.1:1.2/callback/a"));
        assert!(glob("https://*.example.com/**").matches("https://a.example.com/x/y?z=1"));
        assert!(!glob("https://*.example.com/**").matches("https://a.b.example.com/x"));
        assert!(glob("https://?.com").matches("https://a.com"));
        assert!(glob("https://{a,b}.com").matches("https://b.com"));
        assert!(glob("https://[a-c]x.com").matches("https://bx.com"));
        assert!(!glob("https://[!a-c]x.com").matches("https://bx.com"));
        assert!(glob(r"https://a\*.com").matches("https://a*.com"));
        assert!(!glob("https://a.com").matches("https://a.com/"));
        assert_eq!(Glob::new("https://[a.com"), None);
        assert_eq!(Glob::new("https://{a,b.com"), None);
    }

    #[test]
    fn redirects_are_valid_as_gotrue_judges_them() {
        let r = rules(&["myapp://**", "https://*.preview.example.org/**"]);
        assert!(r.is_valid("https://app.example.com/welcome"));
        assert!(
            !r.is_valid("http://app.example.com/welcome"),
            "scheme differs"
        );
        assert!(!r.is_valid("https://app.example.com:8443/"), "port differs");
        assert!(r.is_valid("myapp://auth/done"));
        assert!(r.is_valid("https://pr-1.preview.example.org/x?y=1#frag"));
        assert!(!r.is_valid("https://evil.example.net/"));
        assert!(
            r.is_valid("http://127.0.0.1:61234/callback/xyz"),
            "loopback IPs always"
        );
        assert!(r.is_valid("http://[::1]:1/x"));
        assert!(!r.is_valid("http://10.0.0.1/"), "other IPs never");
        assert!(!r.is_valid("http://2130706433/"), "decimal IPs never");
        assert!(!r.is_valid("https://exa_mple.org/"), "odd host names never");
        assert!(!r.is_valid(""));
        let local = RedirectRules::new("http://localhost:3000", &[]);
        assert!(
            local.is_valid("http://localhost:5555/any"),
            "any port on localhost"
        );
    }

    #[test]
    fn the_referrer_falls_back_to_the_site_url() {
        let r = rules(&[]);
        assert_eq!(
            r.referrer(None, Some("https://evil.net"), None),
            "https://app.example.com"
        );
        assert_eq!(
            r.referrer(
                None,
                Some("https://evil.net"),
                Some("https://app.example.com/from")
            ),
            "https://app.example.com/from"
        );
        assert_eq!(
            r.referrer(
                Some("https://app.example.com/h"),
                Some("https://app.example.com/q"),
                None
            ),
            "https://app.example.com/h"
        );
    }

    #[test]
    fn redirect_urls_are_built_as_gotrue_builds_them() {
        assert_eq!(
            with_code("http://127.0.0.1:9/callback/s?z=1&a=b+c#keep", "C0DE"),
            "http://127.0.0.1:9/callback/s?a=b+c&code=C0DE&z=1#keep"
        );
        assert_eq!(
            with_error(
                "https://a.com/cb?x=1#old",
                "access_denied",
                None,
                "No: really"
            ),
            "https://a.com/cb?error=access_denied&error_description=No%3A+really&x=1\
             #error=access_denied&error_description=No%253A+really&sb="
        );
        assert_eq!(
            with_error_in_query(
                "https://a.com",
                "invalid_request",
                "bad_oauth_state",
                "gone"
            ),
            "https://a.com?error=invalid_request&error_code=bad_oauth_state&error_description=gone"
        );
    }

    #[test]
    fn without_an_allow_list_the_site_and_loopback_addresses_are_valid_and_nothing_else() {
        let rules = RedirectRules::new("http://127.0.0.1:3000", &[]);
        for ok in [
            "http://127.0.0.1:3000/welcome",
            "http://127.0.0.1:5173/",
            "http://127.0.0.1/cb",
            "https://[::1]:8443/x",
            "http://127.0.0.2:1/",
        ] {
            assert!(rules.is_valid(ok), "{ok}");
        }
        for no in [
            "",
            "https://evil.example/",
            "http://localhost:3000/",
            "http://2130706433/",
            "not a url",
            "javascript:alert(1)",
        ] {
            assert!(!rules.is_valid(no), "{no}");
        }
        assert!(
            RedirectRules::new("http://localhost:3000", &[]).is_valid("http://localhost:4000/x")
        );
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
