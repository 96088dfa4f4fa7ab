//! `Token`: a credential held in memory (an access, refresh or provider token). It is wiped
//! when dropped, its `Debug` is its fingerprint, and it has no `Display`, so `{}` does not
//! compile: the text takes an explicit `as_str()` (or `to_string()`, through `str`). It reads
//! as a `&str` wherever one is wanted, which is what keeps the rest of the code unchanged.

use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

use crate::tokens::fingerprint;

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Token(Zeroizing<String>);

impl Token {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Token {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Token {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<String> for Token {
    fn from(text: String) -> Token {
        Token(Zeroizing::new(text))
    }
}

impl From<&str> for Token {
    fn from(text: &str) -> Token {
        Token(Zeroizing::new(text.to_string()))
    }
}

impl PartialEq<str> for Token {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Token {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Token {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&fingerprint(&self.0))
    }
}

impl Serialize for Token {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Token {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Token, D::Error> {
        String::deserialize(deserializer).map(Token::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_reads_as_text_but_prints_as_its_fingerprint() {
        let token = Token::from("abcdefghijkl");
        assert_eq!(token, "abcdefghijkl");
        assert_eq!(token.len(), 12, "derefs to str");
        let shown = format!("{token:?}");
        assert!(
            !shown.contains("abcdefghijkl") && shown.starts_with("fp:"),
            "{shown}"
        );
        let json = serde_json::to_string(&token).unwrap();
        assert_eq!(json, "\"abcdefghijkl\"");
        assert_eq!(serde_json::from_str::<Token>(&json).unwrap(), token);
    }
}
