//! A CBOR (RFC 8949) reader for what WebAuthn sends: attestation objects, attestation
//! statements and COSE keys. It reads as go-webauthn's decoder is configured
//! (`webauthncbor`): definite lengths only, no tags, at most four levels of nesting, no
//! duplicate map keys. Only decoding: the server never writes CBOR.
//!
//! Stricter than go-webauthn: an array or map holds at most [`MAX_ITEMS`] items (go-webauthn
//! allows 131072). What WebAuthn sends has a handful (a COSE key five or so entries, an x5c
//! chain a few certificates); a large count only makes the server work for nothing.

use std::collections::HashSet;
use std::fmt;

/// Nesting levels go-webauthn allows (`nestedLevelsAllowed`).
const MAX_NESTING: usize = 4;

/// Items an array, or entries a map, may hold (see the module notes).
pub const MAX_ITEMS: usize = 256;

#[derive(Debug, Clone, PartialEq)]
pub enum Cbor {
    /// Major types 0 and 1 (a negative `n` is -1 - its argument).
    Int(i128),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Cbor>),
    /// In the order sent.
    Map(Vec<(Cbor, Cbor)>),
    Bool(bool),
    Null,
    Undefined,
    Float(f64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CborError(pub &'static str);

impl fmt::Display for CborError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cbor: {}", self.0)
    }
}

impl std::error::Error for CborError {}

impl Cbor {
    /// The value under `key` of a map.
    pub fn get(&self, key: &Cbor) -> Option<&Cbor> {
        match self {
            Cbor::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value under the text key `key` of a map.
    pub fn get_text(&self, key: &str) -> Option<&Cbor> {
        self.get(&Cbor::Text(key.to_string()))
    }

    /// The value under the integer key `key` of a map (COSE labels).
    pub fn get_int(&self, key: i128) -> Option<&Cbor> {
        self.get(&Cbor::Int(key))
    }

    /// Bytes equal for equal values, whatever their encoding was (floats by their bits), to
    /// find duplicate map keys with a hash set.
    fn fingerprint(&self, out: &mut Vec<u8>) {
        let sized = |kind: u8, len: usize, out: &mut Vec<u8>| {
            out.push(kind);
            out.extend((len as u64).to_be_bytes());
        };
        match self {
            Cbor::Int(n) => {
                out.push(0);
                out.extend(n.to_be_bytes());
            }
            Cbor::Bytes(bytes) => {
                sized(1, bytes.len(), out);
                out.extend(bytes);
            }
            Cbor::Text(text) => {
                sized(2, text.len(), out);
                out.extend(text.as_bytes());
            }
            Cbor::Array(items) => {
                sized(3, items.len(), out);
                items.iter().for_each(|item| item.fingerprint(out));
            }
            Cbor::Map(entries) => {
                sized(4, entries.len(), out);
                for (key, value) in entries {
                    key.fingerprint(out);
                    value.fingerprint(out);
                }
            }
            Cbor::Bool(b) => out.extend([5, u8::from(*b)]),
            Cbor::Null => out.push(6),
            Cbor::Undefined => out.push(7),
            Cbor::Float(f) => {
                out.push(8);
                out.extend(f.to_bits().to_be_bytes());
            }
        }
    }

    pub fn as_int(&self) -> Option<i128> {
        match self {
            Cbor::Int(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Cbor::Bytes(bytes) => Some(bytes),
            _ => None,
        }
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            Cbor::Text(text) => Some(text),
            _ => None,
        }
    }
}

/// The first item of `bytes` and how many bytes it took (go-webauthn's `UnmarshalFirst`:
/// what follows it is the caller's business).
pub fn decode_first(bytes: &[u8]) -> Result<(Cbor, usize), CborError> {
    let mut reader = Reader { bytes, at: 0 };
    let value = reader.item(0)?;
    Ok((value, reader.at))
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], CborError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or(CborError("unexpected end of data"))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn byte(&mut self) -> Result<u8, CborError> {
        Ok(self.take(1)?[0])
    }

    /// The argument of a head whose additional information is `info`.
    fn argument(&mut self, info: u8) -> Result<u64, CborError> {
        let width = match info {
            0..=23 => return Ok(u64::from(info)),
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            31 => return Err(CborError("indefinite length is forbidden")),
            _ => return Err(CborError("reserved additional information")),
        };
        Ok(self
            .take(width)?
            .iter()
            .fold(0u64, |n, b| (n << 8) | u64::from(*b)))
    }

    fn length(&mut self, info: u8) -> Result<usize, CborError> {
        let n = self.argument(info)?;
        // No length can be longer than what is left to read.
        usize::try_from(n)
            .ok()
            .filter(|n| *n <= self.bytes.len() - self.at)
            .ok_or(CborError("length exceeds the data"))
    }

    fn item(&mut self, depth: usize) -> Result<Cbor, CborError> {
        let head = self.byte()?;
        let (major, info) = (head >> 5, head & 0x1f);
        match major {
            0 => Ok(Cbor::Int(i128::from(self.argument(info)?))),
            1 => Ok(Cbor::Int(-1 - i128::from(self.argument(info)?))),
            2 => {
                let n = self.length(info)?;
                Ok(Cbor::Bytes(self.take(n)?.to_vec()))
            }
            3 => {
                let n = self.length(info)?;
                let text = std::str::from_utf8(self.take(n)?)
                    .map_err(|_| CborError("invalid UTF-8 text string"))?;
                Ok(Cbor::Text(text.to_string()))
            }
            4 | 5 => {
                if depth >= MAX_NESTING {
                    return Err(CborError("exceeded max nested level"));
                }
                let n = self.length(info)?;
                if n > MAX_ITEMS {
                    return Err(CborError("too many array or map items"));
                }
                if major == 4 {
                    let mut items = Vec::new();
                    for _ in 0..n {
                        items.push(self.item(depth + 1)?);
                    }
                    return Ok(Cbor::Array(items));
                }
                let mut entries: Vec<(Cbor, Cbor)> = Vec::new();
                // Keys seen, by value (two encodings of one integer are the same key).
                let mut seen = HashSet::new();
                for _ in 0..n {
                    let key = self.item(depth + 1)?;
                    let mut fingerprint = Vec::new();
                    key.fingerprint(&mut fingerprint);
                    if !seen.insert(fingerprint) {
                        return Err(CborError("duplicate map key"));
                    }
                    let value = self.item(depth + 1)?;
                    entries.push((key, value));
                }
                Ok(Cbor::Map(entries))
            }
            6 => Err(CborError("tags are forbidden")),
            _ => self.simple(info),
        }
    }

    fn simple(&mut self, info: u8) -> Result<Cbor, CborError> {
        match info {
            20 => Ok(Cbor::Bool(false)),
            21 => Ok(Cbor::Bool(true)),
            22 => Ok(Cbor::Null),
            23 => Ok(Cbor::Undefined),
            25 => {
                let raw = self.argument(info)? as u16;
                Ok(Cbor::Float(f64::from(half_to_f32(raw))))
            }
            26 => Ok(Cbor::Float(f64::from(f32::from_bits(
                self.argument(info)? as u32
            )))),
            27 => Ok(Cbor::Float(f64::from_bits(self.argument(info)?))),
            _ => Err(CborError("unsupported simple value")),
        }
    }
}

/// IEEE 754 half precision to single.
fn half_to_f32(raw: u16) -> f32 {
    let sign = if raw & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = i32::from((raw >> 10) & 0x1f);
    let mantissa = f32::from(raw & 0x3ff);
    sign * match exponent {
        0 => mantissa * 2f32.powi(-24),
        31 if mantissa == 0.0 => f32::INFINITY,
        31 => f32::NAN,
        _ => (1.0 + mantissa / 1024.0) * 2f32.powi(exponent - 15),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> Result<Cbor, CborError> {
        decode_first(bytes).map(|(value, _)| value)
    }

    #[test]
    fn reads_rfc_8949_appendix_a_examples() {
        assert_eq!(decode(&[0x00]), Ok(Cbor::Int(0)));
        assert_eq!(decode(&[0x18, 0x64]), Ok(Cbor::Int(100)));
        assert_eq!(decode(&[0x39, 0x01, 0x00]), Ok(Cbor::Int(-257)));
        assert_eq!(decode(&[0x26]), Ok(Cbor::Int(-7)));
        assert_eq!(
            decode(&[0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            Ok(Cbor::Int(18_446_744_073_709_551_615))
        );
        assert_eq!(
            decode(&[0x44, 1, 2, 3, 4]),
            Ok(Cbor::Bytes(vec![1, 2, 3, 4]))
        );
        assert_eq!(
            decode(&[0x64, 0x49, 0x45, 0x54, 0x46]),
            Ok(Cbor::Text("IETF".into()))
        );
        assert_eq!(
            decode(&[0x83, 0x01, 0x82, 0x02, 0x03, 0x82, 0x04, 0x05]),
            Ok(Cbor::Array(vec![
                Cbor::Int(1),
                Cbor::Array(vec![Cbor::Int(2), Cbor::Int(3)]),
                Cbor::Array(vec![Cbor::Int(4), Cbor::Int(5)]),
            ]))
        );
        assert_eq!(
            decode(&[0xa2, 0x01, 0x02, 0x03, 0x04]),
            Ok(Cbor::Map(vec![
                (Cbor::Int(1), Cbor::Int(2)),
                (Cbor::Int(3), Cbor::Int(4))
            ]))
        );
        assert_eq!(decode(&[0xf4]), Ok(Cbor::Bool(false)));
        assert_eq!(decode(&[0xf6]), Ok(Cbor::Null));
        assert_eq!(decode(&[0xf9, 0x3c, 0x00]), Ok(Cbor::Float(1.0)));
        assert_eq!(
            decode(&[0xfb, 0x3f, 0xf1, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a]),
            Ok(Cbor::Float(1.1))
        );
    }

    #[test]
    fn refuses_what_go_webauthns_decoder_refuses() {
        // Indefinite-length byte string, array and map.
        assert!(decode(&[0x5f, 0x41, 0x01, 0xff]).is_err());
        assert!(decode(&[0x9f, 0x01, 0xff]).is_err());
        assert!(decode(&[0xbf, 0x01, 0x02, 0xff]).is_err());
        // A tag (0: date/time string).
        assert!(decode(&[0xc0, 0x60]).is_err());
        // A duplicate map key.
        assert!(decode(&[0xa2, 0x01, 0x02, 0x01, 0x03]).is_err());
        // Five levels of arrays.
        assert!(decode(&[0x81, 0x81, 0x81, 0x81, 0x81, 0x01]).is_err());
        assert!(decode(&[0x81, 0x81, 0x81, 0x81, 0x01]).is_ok());
        // Truncated, and a length beyond the data.
        assert!(decode(&[0x44, 1, 2]).is_err());
        assert!(decode(&[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(decode(&[]).is_err());
    }

    /// Hostile input (review 4, item 1): counts are capped, and duplicate keys are found by
    /// value in a hash set, so a big map is refused at once.
    #[test]
    fn large_arrays_and_maps_are_refused() {
        let mut array = vec![0x99, 0x01, 0x00]; // 256 items
        array.extend([0x00; 256]);
        assert!(decode(&array).is_ok());
        let mut array = vec![0x99, 0x01, 0x01]; // 257 items
        array.extend([0x00; 257]);
        assert_eq!(
            decode(&array),
            Err(CborError("too many array or map items"))
        );
        // A map of 150000 distinct integer pairs: refused on its count.
        let mut map = vec![0xba, 0x00, 0x02, 0x49, 0xf0];
        for key in 0u32..150_000 {
            map.push(0x1a);
            map.extend(key.to_be_bytes());
            map.push(0x00);
        }
        assert_eq!(decode(&map), Err(CborError("too many array or map items")));
        // 256 distinct keys are fine; one repeated, in another encoding, is a duplicate.
        let mut map = vec![0xb9, 0x01, 0x00];
        for key in 0u16..255 {
            map.push(0x19);
            map.extend(key.to_be_bytes());
            map.push(0x00);
        }
        let mut ok = map.clone();
        ok.extend([0x19, 0x01, 0x00, 0x00]);
        assert!(decode(&ok).is_ok());
        map.extend([0x18, 0x07, 0x00]);
        assert_eq!(decode(&map), Err(CborError("duplicate map key")));
    }

    #[test]
    fn reports_where_the_first_item_ends() {
        assert_eq!(
            decode_first(&[0xa1, 0x01, 0x02, 0xff, 0xee]),
            Ok((Cbor::Map(vec![(Cbor::Int(1), Cbor::Int(2))]), 3))
        );
    }
}
