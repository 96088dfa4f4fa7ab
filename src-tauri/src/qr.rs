//! QR codes for the window: a TOTP enrollment's `otpauth://` URI becomes a matrix of modules
//! here, and the window draws it as SVG. The server's own `qr_code` image is never rendered, so
//! nothing a server sends becomes markup in the window (and the page needs no QR library, whose
//! CommonJS code would trip over the frozen prototypes the app runs with).

use qrcodegen::{QrCode, QrCodeEcc};
use serde::Serialize;
use ts_rs::TS;

use crate::error::Error;

/// A QR code's dark (`true`) and light modules, row by row, without the quiet zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct QrMatrix {
    pub size: u32,
    pub modules: Vec<bool>,
}

/// Encodes `text` at error-correction level M (what authenticator apps scan comfortably).
pub fn encode(text: &str) -> Result<QrMatrix, Error> {
    let code = QrCode::encode_text(text, QrCodeEcc::Medium).map_err(|_| {
        Error::InvalidInput("The enrollment's URI is too long for a QR code.".into())
    })?;
    let size = code.size();
    let modules = (0..size)
        .flat_map(|y| (0..size).map(move |x| (x, y)))
        .map(|(x, y)| code.get_module(x, y))
        .collect();
    Ok(QrMatrix {
        size: size as u32,
        modules,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_otpauth_uri_becomes_a_square_with_the_three_finder_patterns() {
        let uri = "otpauth://totp/example.com:ada%40example.com?algorithm=SHA1&digits=6&\
                   issuer=example.com&period=30&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
        let qr = encode(uri).unwrap();
        let n = qr.size as usize;
        assert_eq!(qr.modules.len(), n * n);
        assert!(
            n >= 21 && (n - 17).is_multiple_of(4),
            "a QR version's size: {n}"
        );
        let at = |x: usize, y: usize| qr.modules[y * n + x];
        // Each finder pattern: a dark 7×7 ring with a light ring inside and a dark 3×3 centre.
        for (ox, oy) in [(0, 0), (n - 7, 0), (0, n - 7)] {
            assert!(at(ox, oy) && at(ox + 6, oy + 6) && at(ox + 3, oy + 3));
            assert!(!at(ox + 1, oy + 1) && !at(ox + 5, oy + 5));
        }
    }

    #[test]
    fn text_beyond_the_largest_qr_code_is_refused_plainly() {
        let error = encode(&"x".repeat(5000)).unwrap_err();
        assert!(error.to_string().contains("too long"), "{error}");
    }
}
