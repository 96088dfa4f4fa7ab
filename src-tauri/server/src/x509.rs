//! Just enough X.509 (RFC 5280, DER) for WebAuthn attestation certificates: the fields
//! go-webauthn checks of a "packed" attestation certificate (version, validity, subject C, O,
//! OU and CN, the FIDO AAGUID extension, basic constraints) and its public key, which
//! verifies the attestation signature. No chain is built or trusted: GoTrue configures no
//! metadata service, so go-webauthn checks none either.

/// One DER element: its tag, its content, and what follows it.
fn element(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = bytes.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let length = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count || rest[0] == 0 {
            return None;
        }
        let n = rest[..count]
            .iter()
            .fold(0usize, |n, b| (n << 8) | usize::from(*b));
        if n < 0x80 {
            return None;
        }
        rest = &rest[count..];
        n
    };
    (rest.len() >= length).then(|| (tag, &rest[..length], &rest[length..]))
}

/// The content of an element with `tag`, and what follows it.
fn expect(bytes: &[u8], tag: u8) -> Result<(&[u8], &[u8]), String> {
    match element(bytes) {
        Some((t, content, rest)) if t == tag => Ok((content, rest)),
        _ => Err(format!("x509: expected tag {tag:#04x}")),
    }
}

/// The elements of a SEQUENCE's or SET's content.
fn items(mut content: &[u8]) -> Result<Vec<(u8, &[u8])>, String> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (tag, value, rest) = element(content).ok_or("x509: malformed element")?;
        out.push((tag, value));
        content = rest;
    }
    Ok(out)
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const BOOLEAN: u8 = 0x01;

pub const OID_COUNTRY: &[u8] = &[0x55, 0x04, 0x06];
pub const OID_ORGANIZATION: &[u8] = &[0x55, 0x04, 0x0a];
pub const OID_ORGANIZATIONAL_UNIT: &[u8] = &[0x55, 0x04, 0x0b];
pub const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
/// 1.3.6.1.4.1.45724.1.1.4, `id-fido-gen-ce-aaguid`.
pub const OID_FIDO_AAGUID: &[u8] = &[
    0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xe5, 0x1c, 0x01, 0x01, 0x04,
];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// A certificate's subject public key, where this server can use it.
pub enum SubjectKey {
    P256(p256::ecdsa::VerifyingKey),
    P521(Box<p521::ecdsa::VerifyingKey>),
    Rsa(rsa::RsaPublicKey),
    Ed25519([u8; 32]),
    Unsupported,
}

pub struct Extension {
    pub oid: Vec<u8>,
    pub critical: bool,
    pub value: Vec<u8>,
}

pub struct Certificate {
    /// 1, 2 or 3 (Go's `Certificate.Version`).
    pub version: u8,
    /// Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// The subject's attributes in order: their OID and text.
    pub subject: Vec<(Vec<u8>, String)>,
    pub key: SubjectKey,
    pub extensions: Vec<Extension>,
    /// Basic constraints' `cA`.
    pub is_ca: bool,
}

impl Certificate {
    /// The subject's values of attribute `oid`, in order.
    pub fn subject_values(&self, oid: &[u8]) -> Vec<&str> {
        self.subject
            .iter()
            .filter(|(o, _)| o == oid)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

fn time(tag: u8, content: &[u8]) -> Result<i64, String> {
    let text = std::str::from_utf8(content).map_err(|_| "x509: bad time")?;
    let (format, text) = match tag {
        0x17 => {
            // UTCTime: two-digit years 50-99 are 19xx (RFC 5280 §4.1.2.5.1).
            let year: i32 = text
                .get(..2)
                .and_then(|y| y.parse().ok())
                .ok_or("x509: bad time")?;
            let century = if year >= 50 { "19" } else { "20" };
            ("%Y%m%d%H%M%SZ", format!("{century}{text}"))
        }
        0x18 => ("%Y%m%d%H%M%SZ", text.to_string()),
        _ => return Err("x509: bad time".into()),
    };
    chrono::NaiveDateTime::parse_from_str(&text, format)
        .map(|t| t.and_utc().timestamp())
        .map_err(|_| "x509: bad time".into())
}

fn subject_key(spki: &[u8]) -> Result<SubjectKey, String> {
    let (algorithm, rest) = expect(spki, SEQUENCE)?;
    let (bits, _) = expect(rest, BIT_STRING)?;
    let (&unused, key) = bits.split_first().ok_or("x509: empty key")?;
    if unused != 0 {
        return Err("x509: bad key bits".into());
    }
    let (oid, params) = expect(algorithm, OID)?;
    Ok(match oid {
        OID_EC_PUBLIC_KEY => match expect(params, OID)?.0 {
            OID_P256 => p256::ecdsa::VerifyingKey::from_sec1_bytes(key)
                .map(SubjectKey::P256)
                .map_err(|_| "x509: bad P-256 key")?,
            OID_P521 => p521::ecdsa::VerifyingKey::from_sec1_bytes(key)
                .map(|k| SubjectKey::P521(Box::new(k)))
                .map_err(|_| "x509: bad P-521 key")?,
            _ => SubjectKey::Unsupported,
        },
        OID_RSA => {
            let (sequence, _) = expect(key, SEQUENCE)?;
            let (n, rest) = expect(sequence, INTEGER)?;
            let (e, _) = expect(rest, INTEGER)?;
            rsa::RsaPublicKey::new(
                rsa::BigUint::from_bytes_be(n),
                rsa::BigUint::from_bytes_be(e),
            )
            .map(SubjectKey::Rsa)
            .map_err(|e| format!("x509: bad RSA key: {e}"))?
        }
        OID_ED25519 => SubjectKey::Ed25519(key.try_into().map_err(|_| "x509: bad Ed25519 key")?),
        _ => SubjectKey::Unsupported,
    })
}

fn name(content: &[u8]) -> Result<Vec<(Vec<u8>, String)>, String> {
    let mut out = Vec::new();
    for (tag, set) in items(content)? {
        if tag != SET {
            return Err("x509: bad name".into());
        }
        for (tag, attribute) in items(set)? {
            if tag != SEQUENCE {
                return Err("x509: bad name".into());
            }
            let (oid, rest) = expect(attribute, OID)?;
            let (value_tag, value, _) = element(rest).ok_or("x509: bad name")?;
            // The string types Go reads (`parseASN1String`); others are skipped, as Go's
            // pkix does not fail on them either.
            match value_tag {
                // UTF8String, NumericString, PrintableString, T61String, IA5String.
                0x0c | 0x12 | 0x13 | 0x14 | 0x16 => {
                    out.push((oid.to_vec(), String::from_utf8_lossy(value).into_owned()));
                }
                // BMPString: UTF-16 big-endian.
                0x1e => out.push((oid.to_vec(), bmp_string(value)?)),
                _ => {}
            }
        }
    }
    Ok(out)
}

/// A BMPString's text (UTF-16BE; an odd length or an unpaired surrogate is an error, as in
/// Go).
fn bmp_string(value: &[u8]) -> Result<String, String> {
    if !value.len().is_multiple_of(2) {
        return Err("x509: bad BMPString".into());
    }
    let units = value
        .chunks_exact(2)
        .map(|pair| u16::from_be_bytes([pair[0], pair[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| "x509: bad BMPString".into())
}

fn extensions(content: &[u8]) -> Result<(Vec<Extension>, bool), String> {
    let (list, _) = expect(content, SEQUENCE)?;
    let mut out = Vec::new();
    let mut is_ca = false;
    for (tag, extension) in items(list)? {
        if tag != SEQUENCE {
            return Err("x509: bad extension".into());
        }
        let (oid, mut rest) = expect(extension, OID)?;
        let mut critical = false;
        if let Some((BOOLEAN, value, after)) = element(rest) {
            critical = value == [0xff];
            rest = after;
        }
        let (value, _) = expect(rest, OCTET_STRING)?;
        // Go's `parseCertificate`: one extension of an OID at most.
        if out.iter().any(|e: &Extension| e.oid == oid) {
            return Err("x509: certificate contains duplicate extensions".into());
        }
        if oid == OID_BASIC_CONSTRAINTS {
            let (constraints, _) = expect(value, SEQUENCE)?;
            if let Some((BOOLEAN, flag, _)) = element(constraints) {
                is_ca = flag == [0xff];
            }
        }
        out.push(Extension {
            oid: oid.to_vec(),
            critical,
            value: value.to_vec(),
        });
    }
    Ok((out, is_ca))
}

/// Parses a DER certificate.
pub fn parse(der: &[u8]) -> Result<Certificate, String> {
    let (certificate, trailing) = expect(der, SEQUENCE)?;
    // Go's `ParseCertificate` refuses bytes after the certificate.
    if !trailing.is_empty() {
        return Err("x509: trailing data".into());
    }
    let (tbs, _) = expect(certificate, SEQUENCE)?;
    let mut rest = tbs;
    let mut version = 1;
    if let Some((0xa0, explicit, after)) = element(rest) {
        let (value, _) = expect(explicit, INTEGER)?;
        version = match value {
            [v @ 0..=2] => v + 1,
            _ => return Err("x509: bad version".into()),
        };
        rest = after;
    }
    let (_serial, rest) = expect(rest, INTEGER)?;
    let (_signature, rest) = expect(rest, SEQUENCE)?;
    let (_issuer, rest) = expect(rest, SEQUENCE)?;
    let (validity, rest) = expect(rest, SEQUENCE)?;
    let (subject, rest) = expect(rest, SEQUENCE)?;
    let (spki, mut rest) = expect(rest, SEQUENCE)?;
    let (before_tag, before, after) = element(validity).ok_or("x509: bad validity")?;
    let (after_tag, not_after, _) = element(after).ok_or("x509: bad validity")?;
    let mut found = (Vec::new(), false);
    while let Some((tag, content, after)) = element(rest) {
        if tag == 0xa3 {
            found = extensions(content)?;
        }
        rest = after;
    }
    Ok(Certificate {
        version,
        not_before: time(before_tag, before)?,
        not_after: time(after_tag, not_after)?,
        subject: name(subject)?,
        key: subject_key(spki)?,
        extensions: found.0,
        is_ca: found.1,
    })
}

/// The bytes of a DER OCTET STRING (the FIDO AAGUID extension's value).
pub fn octet_string(der: &[u8]) -> Option<Vec<u8>> {
    expect(der, OCTET_STRING).ok().map(|(v, _)| v.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_attestation_certificate() {
        let der = include_bytes!("../tests/fixtures/webauthn-attestation.der");
        let certificate = parse(der).expect("the fixture parses");
        assert_eq!(certificate.version, 3);
        assert_eq!(certificate.subject_values(OID_COUNTRY), ["SE"]);
        assert_eq!(
            certificate.subject_values(OID_ORGANIZATIONAL_UNIT),
            ["Authenticator Attestation"]
        );
        assert_eq!(
            certificate.subject_values(OID_COMMON_NAME),
            ["Test Attestation Key"]
        );
        assert!(!certificate.is_ca);
        assert!(certificate.not_before < certificate.not_after);
        assert!(matches!(certificate.key, SubjectKey::P256(_)));
        let aaguid = certificate
            .extensions
            .iter()
            .find(|e| e.oid == OID_FIDO_AAGUID)
            .expect("the AAGUID extension");
        assert!(!aaguid.critical);
        assert_eq!(octet_string(&aaguid.value), Some(vec![0; 16]));
        assert!(parse(&der[..der.len() - 1]).is_err());
    }

    /// Review 4, item 8: what Go's parser refuses is refused.
    #[test]
    fn refuses_trailing_bytes_and_duplicate_extensions() {
        let der = include_bytes!("../tests/fixtures/webauthn-attestation.der");
        let mut longer = der.to_vec();
        longer.push(0);
        assert_eq!(parse(&longer).err().as_deref(), Some("x509: trailing data"));
        // One extension (basic constraints, CA:FALSE, critical) listed twice.
        let extension = [
            0x30, 0x0c, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x02, 0x30, 0x00,
        ];
        let list = [&[0x30, 0x1c][..], &extension, &extension].concat();
        assert_eq!(
            extensions(&list).err().as_deref(),
            Some("x509: certificate contains duplicate extensions")
        );
        let single = [&[0x30, 0x0e][..], &extension].concat();
        assert!(extensions(&single).is_ok());
    }

    #[test]
    fn reads_bmp_strings() {
        // SET { SEQUENCE { OID CN, BMPString "Hé" } }
        let rdn = [
            0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x04, 0x03, 0x1e, 0x04, 0x00, 0x48, 0x00,
            0xe9,
        ];
        assert_eq!(
            name(&rdn),
            Ok(vec![(OID_COMMON_NAME.to_vec(), "Hé".to_string())])
        );
        assert!(bmp_string(&[0x00]).is_err());
        assert!(bmp_string(&[0xd8, 0x00]).is_err());
    }
}
