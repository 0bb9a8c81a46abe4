//! The city's logo as uploaded: a PNG or an SVG of at most 200 KB, checked before it is kept.
//! An SVG is text that browsers may run: one with a script, an event handler, a reference to
//! anything outside itself or an XML entity is refused (and mashov serves even an accepted one
//! with a policy that lets nothing run).

/// The largest logo kept.
pub const MAX_BYTES: usize = 200 * 1024;
/// The largest PNG, in pixels each way (a logo is shown at most a few hundred wide).
const MAX_SIDE: u32 = 2000;

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
        let mut reader = decoder.read_info().map_err(|_| LogoProblem::BrokenPng)?;
        let info = reader.info();
        if info.width == 0 || info.height == 0 || info.width > MAX_SIDE || info.height > MAX_SIDE {
            return Err(LogoProblem::BrokenPng);
        }
        // Decoded whole, so that a truncated or corrupt image is refused (at most 2000 × 2000
        // pixels of 8 bytes: 32 MB, once, at upload).
        let size = reader.output_buffer_size().ok_or(LogoProblem::BrokenPng)?;
        let mut pixels = vec![0; size];
        reader
            .next_frame(&mut pixels)
            .map_err(|_| LogoProblem::BrokenPng)?;
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

/// Elements a logo may use (local names, lower case); anything else is refused. Drawing only:
/// no `script`, `foreignObject`, `image`, `use`, `a`, `iframe`, no HTML.
const ELEMENTS: [&str; 26] = [
    "svg",
    "g",
    "path",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "title",
    "desc",
    "defs",
    "lineargradient",
    "radialgradient",
    "stop",
    "clippath",
    "mask",
    "pattern",
    "symbol",
    "style",
    "metadata",
    "filter",
    "marker",
    "font-face",
];
/// Prefixes of the metadata drawing programs write (Inkscape, Adobe, RDF).
const METADATA_PREFIXES: [&str; 6] = ["rdf", "cc", "dc", "sodipodi", "inkscape", "i"];

/// A cautious reading of the (lower-cased) text: drawing elements only, the first one `svg`;
/// no comment, CDATA, doctype or entity (not even a character reference, which could spell
/// `javascript:`); no event handler; no reference but to a fragment of the file itself.
fn svg_is_unsafe(lower: &str) -> bool {
    let squeezed: String = lower
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '"' && *c != '\'')
        .collect();
    if [
        "<!--",
        "<![cdata[",
        "<!",
        "javascript:",
        "vbscript:",
        "data:",
        "@import",
        "xhtml",
    ]
    .iter()
    .any(|bad| squeezed.contains(bad))
    {
        return true;
    }
    // References: only to `#fragment`s of this file.
    for marker in ["href=", "url("] {
        if squeezed
            .match_indices(marker)
            .any(|(i, m)| !squeezed[i + m.len()..].starts_with('#'))
        {
            return true;
        }
    }
    // Entities: only the five XML ones.
    for (i, _) in lower.match_indices('&') {
        let rest = &lower[i + 1..];
        if !["amp;", "lt;", "gt;", "quot;", "apos;"]
            .iter()
            .any(|e| rest.starts_with(e))
        {
            return true;
        }
    }
    // Elements: every tag's local name on the list, the first one `svg`.
    let mut first = true;
    for (i, _) in lower.match_indices('<') {
        let rest = lower[i + 1..].trim_start_matches('/');
        if rest.starts_with("?xml") && first {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_' | '.'))
            .collect();
        let (prefix, local) = match name.rsplit_once(':') {
            Some((p, l)) => (Some(p), l),
            None => (None, name.as_str()),
        };
        if first && (local != "svg" || prefix.is_some()) {
            return true;
        }
        first = false;
        let metadata = prefix.is_some_and(|p| METADATA_PREFIXES.contains(&p));
        let drawing = prefix.is_none() || prefix == Some("svg");
        let allowed = (drawing && (ELEMENTS.contains(&local) || local.starts_with("fe")))
            || (metadata && local != "script");
        if !allowed {
            return true;
        }
    }
    if first {
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
            // Spelled with character references, quoted, prefixed, hidden in a comment.
            r#"<svg><a href="&#106;avascript:alert(1)">x</a></svg>"#,
            r#"<svg><rect style="fill:url('https://evil.example/x')"/></svg>"#,
            r#"<svg><path fill="url(&quot;//evil.example/x&quot;)"/></svg>"#,
            r#"<x:script xmlns:x="http://www.w3.org/2000/svg">alert(1)</x:script>"#,
            r#"<svg xmlns:x="http://www.w3.org/2000/svg"><x:script>alert(1)</x:script></svg>"#,
            r#"<!--<svg--><html xmlns="http://www.w3.org/1999/xhtml"><a href="https://evil.example">log in</a></html>"#,
            r#"<html><svg></svg></html>"#,
            r#"<svg><![CDATA[x]]></svg>"#,
            r#"<svg><iframe/></svg>"#,
        ] {
            // Refused: as unsafe, or (with no `<svg` at all) as not an SVG.
            assert!(
                matches!(
                    check(bad.as_bytes()),
                    Err(LogoProblem::UnsafeSvg | LogoProblem::WrongType)
                ),
                "{bad}"
            );
        }
        // A word that merely starts with "on" is not a handler.
        let fine = r#"<svg xmlns="http://www.w3.org/2000/svg"><text font-family="one">online</text></svg>"#;
        assert_eq!(check(fine.as_bytes()), Ok(LogoKind::Svg));
        // What drawing programs write: a declaration, metadata, gradients used by fragment.
        let inkscape = r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" viewBox="0 0 10 10">
<metadata><rdf:RDF><cc:Work><dc:title>Logo &amp; co</dc:title></cc:Work></rdf:RDF></metadata>
<defs><linearGradient id="g"><stop offset="0"/></linearGradient></defs>
<inkscape:grid/><rect width="10" height="10" fill="url(#g)"/></svg>"##;
        assert_eq!(check(inkscape.as_bytes()), Ok(LogoKind::Svg));
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
