//! The OAuth 2.1 server's client registry, as GoTrue's `oauthserver` package keeps it
//! (`service.go`, `client_auth.go`, `models/oauth_client.go`): clients with their redirect
//! URIs, grant types and, for confidential clients, the SHA-256 of a secret shown once.
//! Deleting a client marks it deleted; it is then not found.
//!
//! Only the registry is here (what `/admin/oauth/clients` manages); this server does not act
//! as the authorization server for those clients (`/oauth/authorize`, `/oauth/token`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::clock::{from_micros, rfc3339};
use crate::hash::{random_bytes, sha256};

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS oauth_server_clients (
  id TEXT PRIMARY KEY, registration_type TEXT NOT NULL, client_type TEXT NOT NULL,
  token_endpoint_auth_method TEXT NOT NULL, client_secret_hash TEXT,
  client_name TEXT, client_uri TEXT, logo_uri TEXT,
  redirect_uris TEXT NOT NULL, grant_types TEXT NOT NULL,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER);
";

pub const PUBLIC: &str = "public";
pub const CONFIDENTIAL: &str = "confidential";
pub const AUTH_NONE: &str = "none";
pub const AUTH_SECRET_BASIC: &str = "client_secret_basic";
pub const AUTH_SECRET_POST: &str = "client_secret_post";

/// GoTrue's `GetAllValidAuthMethods`, in its order.
pub const AUTH_METHODS: [&str; 3] = [AUTH_NONE, AUTH_SECRET_BASIC, AUTH_SECRET_POST];

/// The grant types a client may have; both by default.
pub const GRANT_TYPES: [&str; 2] = ["authorization_code", "refresh_token"];

/// GoTrue's limit on redirect URIs per client.
const MAX_REDIRECT_URIS: usize = 10;

#[derive(Debug, Clone)]
pub struct Client {
    pub id: Uuid,
    pub registration_type: String,
    pub client_type: String,
    pub token_endpoint_auth_method: String,
    pub client_secret_hash: Option<String>,
    pub client_name: String,
    pub client_uri: String,
    pub logo_uri: String,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Client {
    pub fn is_confidential(&self) -> bool {
        self.client_type == CONFIDENTIAL
    }

    /// GoTrue's `OAuthServerClientResponse`: empty strings and lists are left out
    /// (`omitempty`), `response_types` is always `["code"]`; the secret is added by the
    /// caller on the two answers that show it.
    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "client_id": self.id,
            "client_type": self.client_type,
            "response_types": ["code"],
            "registration_type": self.registration_type,
            "created_at": rfc3339(from_micros(self.created_at)),
            "updated_at": rfc3339(from_micros(self.updated_at)),
        });
        for (key, value) in [
            (
                "token_endpoint_auth_method",
                &self.token_endpoint_auth_method,
            ),
            ("client_name", &self.client_name),
            ("client_uri", &self.client_uri),
            ("logo_uri", &self.logo_uri),
        ] {
            if !value.is_empty() {
                body[key] = json!(value);
            }
        }
        for (key, value) in [
            ("redirect_uris", &self.redirect_uris),
            ("grant_types", &self.grant_types),
        ] {
            if !value.is_empty() {
                body[key] = json!(value);
            }
        }
        body
    }
}

/// GoTrue's `generateClientSecret`: 32 random bytes, base64url without padding.
pub fn generate_secret() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// GoTrue's `hashClientSecret`: SHA-256, base64url without padding.
pub fn hash_secret(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha256(secret.as_bytes()))
}

/// GoTrue's `InferClientTypeFromAuthMethod`.
pub fn client_type_for(auth_method: &str) -> &'static str {
    if auth_method == AUTH_NONE {
        PUBLIC
    } else {
        CONFIDENTIAL
    }
}

/// GoTrue's `GetValidAuthMethodsForClientType`.
pub fn auth_methods_for(client_type: &str) -> &'static [&'static str] {
    if client_type == PUBLIC {
        &[AUTH_NONE]
    } else {
        &[AUTH_SECRET_BASIC, AUTH_SECRET_POST]
    }
}

/// Go's `fmt` of a string slice: `[a b c]`.
pub fn go_list(items: &[&str]) -> String {
    format!("[{}]", items.join(" "))
}

/// GoTrue's `validateRedirectURIList`; the message of the first rule broken.
pub fn redirect_uris_problem(uris: &[String], required: bool) -> Option<String> {
    if uris.is_empty() {
        return Some(if required {
            "redirect_uris is required".into()
        } else {
            "redirect_uris cannot be empty".into()
        });
    }
    if uris.len() > MAX_REDIRECT_URIS {
        return Some("redirect_uris cannot exceed 10 items".into());
    }
    uris.iter().find_map(|uri| {
        redirect_uri_problem(uri).map(|problem| format!("invalid redirect_uri '{uri}': {problem}"))
    })
}

/// GoTrue's `validateRedirectURI`: scheme and host, no dangerous scheme, plain HTTP only for
/// loopback hosts, no fragment.
fn redirect_uri_problem(uri: &str) -> Option<String> {
    if uri.is_empty() {
        return Some("redirect URI cannot be empty".into());
    }
    let Ok(url) = url::Url::parse(uri) else {
        // Go's `url.Parse` takes what has no scheme as a relative reference, which then has
        // no scheme or host; it fails only on a malformed absolute URL.
        return Some(if uri.contains("://") {
            "invalid URL format".into()
        } else {
            "must have scheme and host".into()
        });
    };
    let host = url.host_str().unwrap_or_default();
    if host.is_empty() {
        return Some("must have scheme and host".into());
    }
    let scheme = url.scheme();
    if ["javascript", "data", "file", "vbscript", "about", "blob"]
        .iter()
        .any(|d| d.eq_ignore_ascii_case(scheme))
    {
        return Some(format!(
            "scheme '{scheme}' is not allowed for security reasons"
        ));
    }
    if scheme == "http" && !matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
        return Some("HTTP scheme only allowed for localhost".into());
    }
    if url.fragment().is_some_and(|f| !f.is_empty()) {
        return Some("fragment not allowed in redirect URI".into());
    }
    None
}

/// GoTrue's `validateGrantTypeList`.
pub fn grant_types_problem(grant_types: &[String]) -> Option<String> {
    if grant_types.is_empty() {
        return Some("grant_types cannot be empty".into());
    }
    grant_types
        .iter()
        .any(|g| !GRANT_TYPES.contains(&g.as_str()))
        .then(|| "grant_types must only contain 'authorization_code' and/or 'refresh_token'".into())
}

/// GoTrue's `validateClientURI` / `validateLogoURI` (`field` is `client_uri` or `logo_uri`):
/// at most 2048 characters and a request URI as Go's `url.ParseRequestURI` reads one (an
/// absolute URL or an absolute path).
pub fn uri_problem(field: &str, value: &str) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    if value.len() > 2048 {
        return Some(format!("{field} cannot exceed 2048 characters"));
    }
    let request_uri = value.starts_with('/') || url::Url::parse(value).is_ok();
    (!request_uri).then(|| format!("{field} must be a valid URL"))
}

const COLUMNS: &str = "id, registration_type, client_type, token_endpoint_auth_method, \
    client_secret_hash, client_name, client_uri, logo_uri, redirect_uris, grant_types, \
    created_at, updated_at";

fn from_row(row: &Row) -> rusqlite::Result<Client> {
    let id: String = row.get(0)?;
    let list = |text: String| -> Vec<String> { serde_json::from_str(&text).unwrap_or_default() };
    Ok(Client {
        id: Uuid::parse_str(&id).unwrap_or_default(),
        registration_type: row.get(1)?,
        client_type: row.get(2)?,
        token_endpoint_auth_method: row.get(3)?,
        client_secret_hash: row.get(4)?,
        client_name: row.get::<_, Option<String>>(5)?.unwrap_or_default(),
        client_uri: row.get::<_, Option<String>>(6)?.unwrap_or_default(),
        logo_uri: row.get::<_, Option<String>>(7)?.unwrap_or_default(),
        redirect_uris: list(row.get(8)?),
        grant_types: list(row.get(9)?),
        created_at: row.get(10)?,
        updated_at: row.get(11)?,
    })
}

/// Inserts a new client's row.
pub fn save(conn: &Connection, client: &Client) -> rusqlite::Result<()> {
    conn.execute(
        &format!(
            "INSERT OR REPLACE INTO oauth_server_clients ({COLUMNS}) \
             VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)"
        ),
        params![
            client.id.to_string(),
            client.registration_type,
            client.client_type,
            client.token_endpoint_auth_method,
            client.client_secret_hash,
            client.client_name,
            client.client_uri,
            client.logo_uri,
            json!(client.redirect_uris).to_string(),
            json!(client.grant_types).to_string(),
            client.created_at,
            client.updated_at,
        ],
    )?;
    Ok(())
}

/// Writes a changed client over its row while it is not deleted (GoTrue's `Update`); a
/// deleted client stays deleted.
pub fn update(conn: &Connection, client: &Client) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE oauth_server_clients SET registration_type = ?2, client_type = ?3, \
         token_endpoint_auth_method = ?4, client_secret_hash = ?5, client_name = ?6, \
         client_uri = ?7, logo_uri = ?8, redirect_uris = ?9, grant_types = ?10, \
         updated_at = ?11 WHERE id = ?1 AND deleted_at IS NULL",
        params![
            client.id.to_string(),
            client.registration_type,
            client.client_type,
            client.token_endpoint_auth_method,
            client.client_secret_hash,
            client.client_name,
            client.client_uri,
            client.logo_uri,
            json!(client.redirect_uris).to_string(),
            json!(client.grant_types).to_string(),
            client.updated_at,
        ],
    )?;
    Ok(())
}

/// A client that is not deleted.
pub fn by_id(conn: &Connection, id: Uuid) -> rusqlite::Result<Option<Client>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM oauth_server_clients WHERE id = ?1 AND deleted_at IS NULL"),
        [id.to_string()],
        from_row,
    )
    .optional()
}

/// Every client not deleted, newest first.
pub fn all(conn: &Connection) -> rusqlite::Result<Vec<Client>> {
    let mut statement = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM oauth_server_clients WHERE deleted_at IS NULL \
         ORDER BY created_at DESC, rowid DESC"
    ))?;
    let rows = statement.query_map([], from_row)?;
    rows.collect()
}

pub fn mark_deleted(conn: &Connection, id: Uuid, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE oauth_server_clients SET deleted_at = ?2, updated_at = ?2 WHERE id = ?1",
        params![id.to_string(), now],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_follow_gotrues_rules() {
        let check = |uris: &[&str]| {
            redirect_uris_problem(
                &uris.iter().map(|u| u.to_string()).collect::<Vec<_>>(),
                true,
            )
        };
        assert_eq!(check(&[]), Some("redirect_uris is required".into()));
        assert_eq!(
            check(&["https://example.com/cb", "http://localhost:3000/cb"]),
            None
        );
        assert_eq!(
            check(&["http://example.com/cb"]),
            Some("invalid redirect_uri 'http://example.com/cb': HTTP scheme only allowed for localhost".into())
        );
        assert_eq!(
            check(&["https://example.com/cb#x"]),
            Some("invalid redirect_uri 'https://example.com/cb#x': fragment not allowed in redirect URI".into())
        );
        assert!(check(&["javascript://x/alert"]).is_some());
        assert!(check(&["not a url"]).is_some());
    }

    #[test]
    fn the_secret_hash_is_sha256_base64url() {
        // SHA-256("") is a published test vector.
        assert_eq!(
            hash_secret(""),
            "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
        );
        assert_eq!(generate_secret().len(), 43);
    }

    /// GoTrue's `UpdateOAuthServerClient` writes a found client; a client deleted meanwhile is
    /// not brought back by the write (the old `INSERT OR REPLACE` undid the delete).
    #[test]
    fn an_update_never_undoes_a_delete() {
        let db = crate::db::Db::open(None).expect("db");
        let client = Client {
            id: Uuid::new_v4(),
            registration_type: "manual".into(),
            client_type: "public".into(),
            token_endpoint_auth_method: "none".into(),
            client_secret_hash: None,
            client_name: "before".into(),
            client_uri: String::new(),
            logo_uri: String::new(),
            redirect_uris: vec!["https://example.com/cb".into()],
            grant_types: vec!["authorization_code".into()],
            created_at: 1,
            updated_at: 1,
        };
        db.run(|conn| {
            save(conn, &client).unwrap();
            let mut read = by_id(conn, client.id).unwrap().expect("saved");
            mark_deleted(conn, client.id, 2).unwrap();
            read.client_name = "after".into();
            update(conn, &read).unwrap();
            assert!(
                by_id(conn, client.id).unwrap().is_none(),
                "the delete stands"
            );
        });
    }
}
