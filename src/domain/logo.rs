//! The city's logo as uploaded: a PNG or an SVG of at most 200 KB, checked before it is kept.
//! An SVG is text that browsers may run: one with a script, an event handler, a reference to
//! anything outside itself or an XML entity is refused (and mashov serves even an accepted one
//! with a policy that lets nothing run).

/// The largest logo kept.
pub const MAX_BYTES: usize = 200 * 1024;
/// The largest PNG, in pixels each way (a logo is shown at most a few hundred wide).
const MAX_SIDE: u32 = 4000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoKind {
    Png,
    Svg,
}

impl LogoKind {
    pub fn content_type(self) -> &'static str {
        match self {
            LogoKind::Png => "image/png",
            LogoKind::Svg => "image/svg+xml",
        }
    }

    pub fn parse(text: &str) -> Option<LogoKind> {
        match text {
            "image/png" => Some(LogoKind::Png),
            "image/svg+xml" => Some(LogoKind::Svg),
            _ => None,
        }
    }
}

/// Why a logo was refused (each has its message in the locale files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LogoProblem {
    #[error("the logo is empty")]
    Empty,
    #[error("the logo is larger than 200 KB")]
    TooLarge,
    #[error("the logo is neither a PNG nor an SVG")]
    WrongType,
    #[error("the PNG cannot be read")]
    BrokenPng,
    #[error("the SVG has a script, an event handler, an entity or a reference outside itself")]
    UnsafeSvg,
}

impl LogoProblem {
    pub fn key(self) -> &'static str {
        match self {
            LogoProblem::Empty => "empty",
            LogoProblem::TooLarge => "too_large",
            LogoProblem::WrongType => "wrong_type",
            LogoProblem::BrokenPng => "broken_png",
            LogoProblem::UnsafeSvg => "unsafe_svg",
        }
    }
}

/// What the bytes are, judged by their content (never by the name or type the browser sent).
pub fn check(bytes: &[u8]) -> Result<LogoKind, LogoProblem> {
    if bytes.is_empty() {
        return Err(LogoProblem::Empty);
    }
    if bytes.len() > MAX_BYTES {
        return Err(LogoProblem::TooLarge);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let reader = decoder.read_info().map_err(|_| LogoProblem::BrokenPng)?;
        let info = reader.info();
        if info.width == 0 || info.height == 0 || info.width > MAX_SIDE || info.height > MAX_SIDE {
            return Err(LogoProblem::BrokenPng);
        }
        return Ok(LogoKind::Png);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| LogoProblem::WrongType)?;
    let lower = text.to_ascii_lowercase();
    if !lower.contains("<svg") {
        return Err(LogoProblem::WrongType);
    }
    if svg_is_unsafe(&lower) {
        return Err(LogoProblem::UnsafeSvg);
    }
    Ok(LogoKind::Svg)
}

/// A cautious reading: anything that could run, load or expand is refused, even where a
/// browser showing the logo as an image would ignore it.
fn svg_is_unsafe(lower: &str) -> bool {
    const REFUSED: [&str; 12] = [
        "<script",
        "javascript:",
        "vbscript:",
        "data:",
        "<!entity",
        "<!doctype",
        "<foreignobject",
        "<iframe",
        "<embed",
        "<object",
        "<use",
        "@import",
    ];
    if REFUSED.iter().any(|r| lower.contains(r)) {
        return true;
    }
    // References to anything outside the file (`href="http…"`, `url(http…)`).
    let outside = [
        "href=\"http",
        "href='http",
        "href=\"//",
        "href='//",
        "url(http",
        "url(//",
    ];
    if outside
        .iter()
        .any(|o| lower.replace(char::is_whitespace, "").contains(o))
    {
        return true;
    }
    // Event handlers: an attribute `on…=` anywhere.
    let bytes = lower.as_bytes();
    for (i, w) in bytes.windows(2).enumerate() {
        if w == b"on" && i > 0 && (bytes[i - 1].is_ascii_whitespace() || bytes[i - 1] == b'/') {
            let rest = &lower[i + 2..];
            let name_len = rest.bytes().take_while(|b| b.is_ascii_alphabetic()).count();
            let after = rest[name_len..].trim_start();
            if name_len > 0 && after.starts_with('=') {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#0b4f8a"/></svg>"##;

    #[test]
    fn a_plain_svg_and_a_real_png_are_accepted() {
        assert_eq!(check(SVG.as_bytes()), Ok(LogoKind::Svg));
        let mut png_bytes = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut png_bytes, 2, 2);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut w = enc.write_header().expect("header");
            w.write_image_data(&[0u8; 12]).expect("data");
        }
        assert_eq!(check(&png_bytes), Ok(LogoKind::Png));
    }

    #[test]
    fn scripts_handlers_entities_and_outside_references_are_refused() {
        for bad in [
            r#"<svg><script>alert(1)</script></svg>"#,
            r#"<svg onload="alert(1)"></svg>"#,
            r#"<svg><rect ONCLICK = "x"/></svg>"#,
            r#"<svg><a href="javascript:alert(1)">x</a></svg>"#,
            r#"<!DOCTYPE svg [<!ENTITY x "y">]><svg>&x;</svg>"#,
            r#"<svg><image href="https://evil.example/x.png"/></svg>"#,
            r#"<svg><foreignObject><p>x</p></foreignObject></svg>"#,
            r##"<svg><use href="#a"/></svg>"##,
            r#"<svg style="background:url(//evil.example/x)"></svg>"#,
            r#"<svg><image href="data:image/png;base64,AAAA"/></svg>"#,
        ] {
            assert_eq!(check(bad.as_bytes()), Err(LogoProblem::UnsafeSvg), "{bad}");
        }
        // A word that merely starts with "on" is not a handler.
        let fine = r#"<svg xmlns="http://www.w3.org/2000/svg"><text font-family="one">online</text></svg>"#;
        assert_eq!(check(fine.as_bytes()), Ok(LogoKind::Svg));
    }

    #[test]
    fn other_files_empty_ones_and_big_ones_are_refused() {
        assert_eq!(check(b""), Err(LogoProblem::Empty));
        assert_eq!(check(b"GIF89a...."), Err(LogoProblem::WrongType));
        assert_eq!(
            check(b"\x89PNG\r\n\x1a\nbroken"),
            Err(LogoProblem::BrokenPng)
        );
        assert_eq!(
            check(&[0xff, 0xd8, 0xff, 0xe0]),
            Err(LogoProblem::WrongType)
        );
        let big = format!("<svg>{}</svg>", " ".repeat(MAX_BYTES));
        assert_eq!(check(big.as_bytes()), Err(LogoProblem::TooLarge));
    }
}
