//! What every CSV import shares: Excel's byte-order mark, and a clear refusal of files that are
//! not UTF-8 (Excel's default "CSV" in an Israeli office is Windows-1255).

use super::catalog::LineError;

/// Strips a UTF-8 byte-order mark and checks the rest is UTF-8, naming the first bad line and,
/// where the bytes look like it, the legacy Hebrew or Arabic encoding they are probably in.
pub fn utf8_text(bytes: &[u8]) -> Result<&str, LineError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            let guess = match legacy_guess(bytes) {
                Some(name) => format!(" It looks like {name}."),
                None => String::new(),
            };
            Err(LineError::new(
                line,
                format!(
                    "the file is not UTF-8.{guess} In Excel use Save As, \"CSV UTF-8\"; or convert \
                     it with: iconv -f WINDOWS-1255 -t UTF-8"
                ),
            ))
        }
    }
}

/// Hebrew letters are 0xE0–0xFA in both Windows-1255 and ISO-8859-8; Arabic letters sit
/// mostly in 0xC1–0xDF in Windows-1256. A file of mostly one range is probably that encoding.
fn legacy_guess(bytes: &[u8]) -> Option<&'static str> {
    let high: Vec<u8> = bytes.iter().copied().filter(|b| *b >= 0x80).collect();
    if high.is_empty() {
        return None;
    }
    let share = |lo: u8, hi: u8| {
        high.iter().filter(|b| (lo..=hi).contains(*b)).count() as f64 / high.len() as f64
    };
    if share(0xE0, 0xFA) > 0.6 {
        Some("Hebrew in Windows-1255 (or ISO-8859-8)")
    } else if share(0xC1, 0xDF) > 0.6 {
        Some("Arabic in Windows-1256")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bom_is_dropped_and_utf8_passes() {
        assert_eq!(utf8_text("\u{feff}a,b".as_bytes()).ok(), Some("a,b"));
    }

    #[test]
    fn windows_1255_hebrew_is_named() {
        // "email,department_code,language\r\nדנה@x" with "דנה" in Windows-1255.
        let mut bytes = b"email,department_code,language\r\n".to_vec();
        bytes.extend([0xE3, 0xF0, 0xE4]);
        bytes.extend(b"@city.example,hr,he\r\n");
        let e = utf8_text(&bytes).expect_err("not utf-8");
        assert_eq!(e.line, 2);
        assert!(e.message.contains("Windows-1255"), "{}", e.message);
    }
}
