//! Go's `time.ParseDuration`, for GoTrue's `ban_duration` (`"24h"`, `"1h30m"`, `"100ms"`,
//! `"-1.5h"`), with Go's error messages. Returned in microseconds, the server's time unit
//! (a nanosecond remainder is dropped).

/// Microseconds per unit, Go's unit names.
const UNITS: [(&str, f64); 8] = [
    ("ns", 0.001),
    ("us", 1.0),
    ("µs", 1.0),
    ("μs", 1.0),
    ("ms", 1_000.0),
    ("s", 1_000_000.0),
    ("m", 60_000_000.0),
    ("h", 3_600_000_000.0),
];

/// The duration in microseconds, or Go's error text (`time: invalid duration "x"`).
pub fn parse(text: &str) -> Result<i64, String> {
    let quoted = format!("{text:?}");
    let invalid = || format!("time: invalid duration {quoted}");
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..number_end];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(invalid());
        }
        let value: f64 = number.parse().map_err(|_| invalid())?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        if unit.is_empty() {
            return Err(format!("time: missing unit in duration {quoted}"));
        }
        let Some((_, scale)) = UNITS.iter().find(|(name, _)| *name == unit) else {
            return Err(format!("time: unknown unit {unit:?} in duration {quoted}"));
        };
        total += value * scale;
        rest = &rest[unit_end..];
    }
    // Go's limit: about 290 years.
    if total > i64::MAX as f64 / 1_000.0 {
        return Err(invalid());
    }
    let micros = total as i64;
    Ok(if negative { -micros } else { micros })
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn reads_go_durations() {
        assert_eq!(parse("24h"), Ok(86_400_000_000));
        assert_eq!(parse("1h30m"), Ok(5_400_000_000));
        assert_eq!(parse("1.5s"), Ok(1_500_000));
        assert_eq!(parse("-2m"), Ok(-120_000_000));
        assert_eq!(parse("0"), Ok(0));
    }

    #[test]
    fn answers_with_gos_errors() {
        assert_eq!(
            parse("forever"),
            Err("time: invalid duration \"forever\"".into())
        );
        assert_eq!(
            parse("10"),
            Err("time: missing unit in duration \"10\"".into())
        );
        assert_eq!(
            parse("10y"),
            Err("time: unknown unit \"y\" in duration \"10y\"".into())
        );
        assert_eq!(parse(""), Err("time: invalid duration \"\"".into()));
    }
}
