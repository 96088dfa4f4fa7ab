//! The supabase-js form: the `supabase.auth` call a developer would write to send this request
//! (`refreshSession`, `signInWithPassword`, `getUser`, `signOut`, `verifyOtp`, `mfa.verify`, …),
//! or a `fetch` with the same method, headers and body for an endpoint supabase-js has no call
//! for. Secrets are constants declared at the top: the value, or `process.env.NAME`.

use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::{header_hint, key_before, Piece, Request, Slots};

/// A JavaScript expression for recorded text and slots: a string literal, a constant, or a
/// template literal when they are mixed.
fn expression(pieces: &[Piece], slots: &Slots) -> String {
    match pieces {
        [] => "''".into(),
        [Piece::Slot(at)] => slots.slots[*at].name.clone(),
        _ if pieces.iter().all(|p| matches!(p, Piece::Text(_))) => {
            let text: String = pieces
                .iter()
                .map(|p| match p {
                    Piece::Text(t) => t.as_str(),
                    Piece::Slot(_) => "",
                })
                .collect();
            string_literal(&text)
        }
        _ => {
            let mut out = String::from("`");
            for piece in pieces {
                match piece {
                    Piece::Text(text) => out.push_str(
                        &text
                            .replace('\\', "\\\\")
                            .replace('`', "\\`")
                            .replace("${", "\\${"),
                    ),
                    Piece::Slot(at) => out.push_str(&format!("${{{}}}", slots.slots[*at].name)),
                }
            }
            out.push('`');
            out
        }
    }
}

/// A JSON string is a JavaScript string literal.
fn string_literal(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "''".into())
}

/// A property name: bare when it is an identifier.
fn property(name: &str) -> String {
    let identifier = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if identifier {
        name.to_string()
    } else {
        string_literal(name)
    }
}

/// A JSON value as JavaScript, its strings split into text and slots named after their key.
fn value(value: &Value, key: &str, slots: &mut Slots) -> String {
    match value {
        Value::String(text) => {
            let pieces = slots.split(text, |_| key.to_string(), "the {} in the body");
            expression(&pieces, slots)
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(|v| self::value(v, key, slots)).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => object(map.iter().map(|(k, v)| (k.as_str(), k.as_str(), v)), slots),
        other => other.to_string(),
    }
}

/// An object literal of `(name in the call, key in the body, value)`.
fn object<'v>(
    members: impl Iterator<Item = (&'v str, &'v str, &'v Value)>,
    slots: &mut Slots,
) -> String {
    let members: Vec<String> = members
        .map(|(name, key, v)| format!("{}: {}", property(name), value(v, key, slots)))
        .collect();
    if members.is_empty() {
        "{}".into()
    } else {
        format!("{{ {} }}", members.join(", "))
    }
}

/// The members of `body` named in `pick` (`(call name, body key)`), in that order.
fn picked(
    body: &Map<String, Value>,
    pick: &[(&'static str, &'static str)],
    slots: &mut Slots,
) -> Vec<String> {
    pick.iter()
        .filter_map(|(name, key)| {
            let v = body.get(*key)?;
            Some(format!("{}: {}", property(name), value(v, key, slots)))
        })
        .collect()
}

fn braces(members: Vec<String>) -> String {
    if members.is_empty() {
        "{}".into()
    } else {
        format!("{{ {} }}", members.join(", "))
    }
}

/// A recorded header as an expression; `strip` is taken off its start (`Bearer `).
fn header(request: &Request, slots: &mut Slots, name: &str, strip: &str) -> Option<String> {
    let (_, recorded) = request.headers().into_iter().find(|(n, _)| n == name)?;
    let place = format!("the {name} header");
    let hint = header_hint(name);
    let mut pieces = slots.split(recorded, |_| hint.clone(), &place);
    if let Some(Piece::Text(text)) = pieces.first_mut() {
        if let Some(rest) = text.strip_prefix(strip) {
            *text = rest.to_string();
            if text.is_empty() {
                pieces.remove(0);
            }
        }
    }
    Some(expression(&pieces, slots))
}

/// The `supabase.auth` call for this request, if supabase-js has one, and whether it needs
/// the session set first.
fn auth_call(
    request: &Request,
    slots: &mut Slots,
    body: &Map<String, Value>,
) -> Option<(String, bool)> {
    let path = request.auth_path.as_deref()?;
    let method = request.exchange.method.as_str();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let contact = [("email", "email"), ("phone", "phone")];
    let call = match (method, segments.as_slice()) {
        ("POST", ["token"]) => match request.query("grant_type").as_deref() {
            Some("refresh_token") => format!(
                "refreshSession({})",
                braces(picked(body, &[("refresh_token", "refresh_token")], slots))
            ),
            Some("password") => {
                let mut pick = contact.to_vec();
                pick.push(("password", "password"));
                format!("signInWithPassword({})", braces(picked(body, &pick, slots)))
            }
            // exchangeCodeForSession reads the code verifier from the storage its own sign-in
            // wrote; a fresh client has none, so the copy is a fetch carrying both.
            Some("pkce") => return None,
            Some("id_token") => format!(
                "signInWithIdToken({})",
                braces(picked(
                    body,
                    &[
                        ("provider", "provider"),
                        ("token", "id_token"),
                        ("nonce", "nonce")
                    ],
                    slots
                ))
            ),
            _ => return None,
        },
        ("GET", ["user"]) => {
            let jwt = header(request, slots, "authorization", "Bearer ")?;
            return Some((format!("getUser({jwt})"), false));
        }
        ("PUT", ["user"]) => {
            let pick = [
                ("email", "email"),
                ("phone", "phone"),
                ("password", "password"),
                ("nonce", "nonce"),
                ("data", "data"),
            ];
            return Some((
                format!("updateUser({})", braces(picked(body, &pick, slots))),
                true,
            ));
        }
        ("POST", ["logout"]) => {
            let scope = request.query("scope").unwrap_or_else(|| "global".into());
            return Some((
                format!("signOut({{ scope: {} }})", string_literal(&scope)),
                true,
            ));
        }
        ("GET", ["reauthenticate"]) => return Some(("reauthenticate()".into(), true)),
        ("POST", ["otp"]) => {
            let mut members = picked(body, &contact, slots);
            let options = picked(
                body,
                &[("shouldCreateUser", "create_user"), ("data", "data")],
                slots,
            );
            if !options.is_empty() {
                members.push(format!("options: {}", braces(options)));
            }
            format!("signInWithOtp({})", braces(members))
        }
        ("POST", ["verify"]) => {
            let pick = [
                ("email", "email"),
                ("phone", "phone"),
                ("token", "token"),
                ("token_hash", "token_hash"),
                ("type", "type"),
            ];
            format!("verifyOtp({})", braces(picked(body, &pick, slots)))
        }
        ("POST", ["signup"]) if body.contains_key("email") || body.contains_key("phone") => {
            let mut pick = contact.to_vec();
            pick.push(("password", "password"));
            let mut members = picked(body, &pick, slots);
            let options = picked(body, &[("data", "data")], slots);
            if !options.is_empty() {
                members.push(format!("options: {}", braces(options)));
            }
            format!("signUp({})", braces(members))
        }
        ("POST", ["signup"]) => "signInAnonymously()".into(),
        ("POST", ["recover"]) => {
            let email = body
                .get("email")
                .map_or("''".into(), |v| value(v, "email", slots));
            format!("resetPasswordForEmail({email})")
        }
        ("POST", ["resend"]) => {
            let pick = [("type", "type"), ("email", "email"), ("phone", "phone")];
            format!("resend({})", braces(picked(body, &pick, slots)))
        }
        ("POST", ["factors"]) => {
            let pick = [
                ("factorType", "factor_type"),
                ("friendlyName", "friendly_name"),
                ("issuer", "issuer"),
                ("phone", "phone"),
            ];
            return Some((
                format!("mfa.enroll({})", braces(picked(body, &pick, slots))),
                true,
            ));
        }
        ("POST", ["factors", id, "challenge"]) => {
            return Some((
                format!("mfa.challenge({{ factorId: {} }})", string_literal(id)),
                true,
            ));
        }
        ("POST", ["factors", id, "verify"]) => {
            let mut members = vec![format!("factorId: {}", string_literal(id))];
            members.extend(picked(
                body,
                &[("challengeId", "challenge_id"), ("code", "code")],
                slots,
            ));
            return Some((format!("mfa.verify({})", braces(members)), true));
        }
        ("DELETE", ["factors", id]) => {
            return Some((
                format!("mfa.unenroll({{ factorId: {} }})", string_literal(id)),
                true,
            ));
        }
        _ => return None,
    };
    Some((call, false))
}

/// A `fetch` that sends the same request.
fn fetch(request: &Request, slots: &mut Slots) -> String {
    let exchange = request.exchange;
    let url_pieces = slots.split(&exchange.url, key_before, "the {} in the URL");
    let url = expression(&url_pieces, slots);
    let mut headers = Vec::new();
    for (name, _) in request.headers() {
        if let Some(v) = header(request, slots, &name, "") {
            headers.push(format!("    {}: {v},", property(&name)));
        }
    }
    let mut out = format!(
        "const response = await fetch({url}, {{\n  method: {},\n  headers: {{\n{}\n  }},\n",
        string_literal(&exchange.method),
        headers.join("\n")
    );
    if let Some(body) = &exchange.request_body {
        let body = match serde_json::from_str::<Value>(body) {
            Ok(json) => format!("JSON.stringify({})", value(&json, "body", slots)),
            Err(_) => {
                let pieces = slots.split(body, key_before, "the {} in the body");
                expression(&pieces, slots)
            }
        };
        out.push_str(&format!("  body: {body},\n"));
    }
    out.push_str("})\nconsole.log(response.status, await response.text())");
    out
}

/// The program's body: the client and the call, or the `fetch` (no secret in it: slots are
/// constants).
pub(super) fn program(request: &Request, slots: &mut Slots) -> String {
    let body = request
        .exchange
        .request_body
        .as_deref()
        .and_then(|b| serde_json::from_str::<Value>(b).ok())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    // A fallback to fetch starts over from the slots found so far, so a secret the call had
    // already named is not named twice.
    let found = slots.slots.len();
    let key = header(request, slots, "apikey", "");
    let Some(((call, needs_session), key)) =
        key.and_then(|key| Some((auth_call(request, slots, &body)?, key)))
    else {
        slots.slots.truncate(found);
        slots.values.truncate(found);
        return fetch(request, slots);
    };
    let mut out = format!(
        "import {{ createClient }} from '@supabase/supabase-js'\n\nconst supabase = createClient({}, {key})\n",
        string_literal(&request.project_url)
    );
    if needs_session {
        // supabase-js sends these calls with the session it holds.
        let access = header(request, slots, "authorization", "Bearer ").unwrap_or("''".into());
        let refresh = slots.current_refresh_token();
        if refresh.is_some_and(|at| slots.slots[at].filled) {
            out.push_str(
                "// Running this can refresh the app's own session (setSession refreshes once the\n\
                 // access token has expired), and a refresh token does not expire on its own.\n",
            );
        }
        let refresh = refresh.map_or("''".into(), |at| slots.slots[at].name.clone());
        out.push_str(&format!(
            "await supabase.auth.setSession({{ access_token: {access}, refresh_token: {refresh} }})\n"
        ));
    }
    out.push_str(&format!(
        "const {{ data, error }} = await supabase.auth.{call}\nconsole.log(error ?? data)"
    ));
    out
}

/// The whole file: what it is, the constants, the program.
pub(super) fn script(request: &Request, slots: &Slots, program: &str) -> Zeroizing<String> {
    let exchange = request.exchange;
    let mut out = Zeroizing::new(format!(
        "// Exchange #{}: {} {}, as Session Inspector recorded it.\n",
        exchange.id, exchange.method, exchange.url
    ));
    if slots.values.iter().any(Option::is_some) {
        out.push_str(
            "// It holds real tokens: keep it out of shared screens, chats and tickets.\n",
        );
    }
    let mut declarations = Zeroizing::new(String::new());
    for (slot, value) in slots.slots.iter().zip(&slots.values) {
        let print = slot.fingerprint.as_deref().unwrap_or("no fingerprint");
        match value {
            Some(token) => declarations.push_str(&format!(
                "const {} = {} // {}, {print}\n",
                slot.name,
                string_literal(token),
                slot.place
            )),
            None => declarations.push_str(&format!(
                "const {name} = process.env.{name} // {}, {print}\n",
                slot.place,
                name = slot.name
            )),
        }
    }
    // The declarations go after the import, which must come first in a module.
    match program.split_once("\n\n") {
        Some((import, rest)) if import.starts_with("import ") => {
            out.push_str(import);
            out.push_str("\n\n");
            out.push_str(&declarations);
            out.push_str(rest);
        }
        _ => {
            out.push_str(&declarations);
            out.push_str(program);
        }
    }
    out.push('\n');
    out
}
