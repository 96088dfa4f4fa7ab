//! JSON forms: a session or token response, the supabase-js v1 `{ currentSession }` storage
//! shape, sessions nested as supabase-js calls log them, the old auth-helpers
//! `[access, refresh, …]` array, and dumps of localStorage or a cookie jar that hold a
//! session key.

use serde_json::{Map, Value};

use crate::tokens;

use super::cookies::{import_keyed_value, session_key_name};
use super::{ImportError, ImportKind, Imported};

/// The tokens found in a JSON session, before deciding the kind.
pub(super) struct Found {
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_at: Option<i64>,
    /// The supabase-js v1 `{ currentSession, expiresAt }` storage shape.
    v1: bool,
}

impl Found {
    pub(super) fn into_imported(
        self,
        kind: ImportKind,
        key: Option<&str>,
        chunks: usize,
    ) -> Imported {
        let expires_at = self.expires_at.or_else(|| {
            self.access_token
                .as_deref()
                .and_then(|t| tokens::decode_jwt(t).ok())
                .and_then(|jwt| jwt.expires_at())
        });
        Imported {
            kind,
            refresh_token: self.refresh_token,
            access_token: self.access_token,
            storage_key: key.map(str::to_string),
            chunks,
            expires_at,
        }
    }
}

pub(super) fn import_json_text(text: &str, key: Option<&str>) -> Result<Imported, ImportError> {
    let json: Value = serde_json::from_str(text).map_err(|err| {
        // serde_json's syntax errors can quote input; report only the position.
        ImportError::InvalidJson(format!(
            "This looks like JSON but does not parse (line {}, column {})",
            err.line(),
            err.column()
        ))
    })?;
    import_json(&json, key)
}

fn import_json(json: &Value, key: Option<&str>) -> Result<Imported, ImportError> {
    if let Some(found) = find_session(json) {
        let kind = if key.is_some() || found.v1 {
            ImportKind::StorageValue
        } else {
            ImportKind::TokenResponse
        };
        return Ok(found.into_imported(kind, key, 0));
    }
    // A dump of localStorage or of a cookie jar: look for the session key inside.
    if key.is_none() {
        if let Value::Object(map) = json {
            if let Some((name, value)) = map.iter().find(|(name, _)| {
                session_key_name(name.as_str()).is_some_and(|(_, chunk)| chunk.is_none())
            }) {
                return match value {
                    Value::String(inner) => import_keyed_value(name, inner),
                    other => import_json(other, Some(name)),
                };
            }
        }
    }
    Err(ImportError::NoTokens)
}

/// Finds a session in the shapes supabase-js and GoTrue produce: a session / token response
/// object, the v1 `{ currentSession }` wrapper, `{ session }` / `{ data: { session } }` as
/// logged from supabase-js calls, and the `[access, refresh, …]` array of the old
/// auth-helpers cookies.
pub(super) fn find_session(json: &Value) -> Option<Found> {
    match json {
        Value::Object(map) => {
            if let Some(found) = session_fields(map) {
                return Some(found);
            }
            if let Some(Value::Object(current)) = map.get("currentSession") {
                let mut found = session_fields(current)?;
                found.v1 = true;
                found.expires_at = found.expires_at.or_else(|| number(map.get("expiresAt")));
                return Some(found);
            }
            ["session", "data"]
                .iter()
                .filter_map(|name| map.get(*name))
                .find_map(find_session)
        }
        Value::Array(items) => {
            let access = items.first()?.as_str()?;
            let refresh = items.get(1)?.as_str()?;
            if access.matches('.').count() != 2 || refresh.is_empty() {
                return None;
            }
            Some(Found {
                access_token: Some(access.to_string()),
                refresh_token: Some(refresh.to_string()),
                expires_at: None,
                v1: false,
            })
        }
        _ => None,
    }
}

fn session_fields(map: &Map<String, Value>) -> Option<Found> {
    let text = |name: &str| {
        map.get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
    };
    let access_token = text("access_token");
    let refresh_token = text("refresh_token");
    if access_token.is_none() && refresh_token.is_none() {
        return None;
    }
    Some(Found {
        access_token,
        refresh_token,
        expires_at: number(map.get("expires_at")),
        v1: false,
    })
}

fn number(value: Option<&Value>) -> Option<i64> {
    let value = value?;
    value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.is_finite() && f.abs() < 9.0e15)
            .map(|f| f.trunc() as i64)
    })
}

#[cfg(test)]
mod tests {
    use crate::import::{parse_import, ImportKind};
    use crate::test_fixtures::{assert_session, jwt, session, EXP, LEGACY};
    use serde_json::json;

    #[test]
    fn storage_value_v1_current_session_shape_is_recognized() {
        let mut current = session();
        current.as_object_mut().unwrap().remove("expires_at");
        let v1 = json!({"currentSession": current, "expiresAt": EXP});
        let imported = parse_import(&v1.to_string()).unwrap();
        assert_eq!(imported.kind, ImportKind::StorageValue);
        assert_eq!(imported.storage_key, None);
        assert_session(&imported);
    }

    #[test]
    fn token_response_is_recognized() {
        let imported = parse_import(&format!("\n{}\n", session())).unwrap();
        assert_eq!(imported.kind, ImportKind::TokenResponse);
        assert_eq!(imported.storage_key, None);
        assert_session(&imported);
        assert!(imported
            .describe()
            .starts_with("A token response holding a session"));

        // Without expires_at the access token's exp is used.
        let mut without = session();
        without.as_object_mut().unwrap().remove("expires_at");
        assert_eq!(
            parse_import(&without.to_string()).unwrap().expires_at,
            Some(EXP)
        );
    }

    #[test]
    fn nested_session_and_auth_helpers_array_are_found() {
        let logged = json!({"data": {"session": session(), "user": null}, "error": null});
        let imported = parse_import(&logged.to_string()).unwrap();
        assert_eq!(imported.kind, ImportKind::TokenResponse);
        assert_session(&imported);

        let array = json!([jwt(), LEGACY, null, null, null]).to_string();
        let imported = parse_import(&format!("sb-abcd-auth-token={}", {
            let mut encoded = String::new();
            for b in array.bytes() {
                if b.is_ascii_alphanumeric() {
                    encoded.push(b as char);
                } else {
                    encoded.push_str(&format!("%{b:02X}"));
                }
            }
            encoded
        }))
        .unwrap();
        assert_eq!(imported.refresh_token(), Some(LEGACY));
        assert_eq!(imported.expires_at, Some(EXP));
    }
}
