//! The city as its residents and staff see it: its name in each language, its colour, a
//! contact line and a privacy notice. Set by `MASHOV_CITY_NAME` / `MASHOV_BRAND_COLOR` (which
//! win), or by an admin at `/admin/settings`; every page and email reads the current one.

use std::collections::BTreeMap;

use super::language::Language;

/// The colour used where none is set: the app's own blue (contrast 8.6:1 on white).
pub const DEFAULT_COLOR: &str = "#0b4f8a";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CityProfile {
    /// The city's name per language; a language without one falls back to Hebrew.
    pub names: BTreeMap<Language, String>,
    /// `#rrggbb`, dark enough for white text on it.
    pub color: String,
    /// How to reach the city (a phone line, an address), shown on public pages.
    pub contact: String,
    /// The privacy notice per language; a language without one falls back to Hebrew.
    pub privacy: BTreeMap<Language, String>,
    /// The logo, when the city uploaded one.
    pub logo: Option<Logo>,
}

/// A checked logo, kept in memory so that serving it reads no database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    pub kind: super::logo::LogoKind,
    pub bytes: std::sync::Arc<Vec<u8>>,
    /// Changes with the content: pages link `/logo?v=VERSION`, so caches never show an old one.
    pub version: String,
}

impl Default for CityProfile {
    fn default() -> Self {
        CityProfile {
            names: BTreeMap::new(),
            color: DEFAULT_COLOR.to_string(),
            contact: String::new(),
            privacy: BTreeMap::new(),
            logo: None,
        }
    }
}

fn in_language(map: &BTreeMap<Language, String>, lang: Language) -> Option<&str> {
    let given = |l: Language| {
        map.get(&l)
            .map(String::as_str)
            .filter(|s| !s.trim().is_empty())
    };
    given(lang).or_else(|| given(Language::He))
}

impl CityProfile {
    /// The name in `lang`, else in Hebrew; None when the city has not named itself.
    pub fn name(&self, lang: Language) -> Option<&str> {
        in_language(&self.names, lang)
    }

    pub fn privacy(&self, lang: Language) -> Option<&str> {
        in_language(&self.privacy, lang)
    }
}

/// Whether `color` is `#rrggbb` and dark enough for white text on it (5:1, so that it keeps WCAG AA's 4.5:1 on the pages' light grey too), as
/// headers and buttons in emails put it.
pub fn usable_color(color: &str) -> bool {
    let hex = match color.strip_prefix('#') {
        Some(h) if h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()) => h,
        _ => return false,
    };
    let channel = |i: usize| {
        let v = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0)) / 255.0;
        if v <= 0.039_28 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
    1.05 / (luminance + 0.05) >= 5.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_falls_back_to_hebrew_and_an_empty_one_counts_as_none() {
        let mut p = CityProfile::default();
        assert_eq!(p.name(Language::En), None);
        p.names.insert(Language::He, "עיריית חולון".into());
        p.names.insert(Language::En, "  ".into());
        assert_eq!(p.name(Language::Ar), Some("עיריית חולון"));
        assert_eq!(p.name(Language::En), Some("עיריית חולון"));
        p.names.insert(Language::En, "Holon".into());
        assert_eq!(p.name(Language::En), Some("Holon"));
    }

    #[test]
    fn only_colours_that_carry_white_text_are_usable() {
        assert!(usable_color(DEFAULT_COLOR));
        assert!(usable_color("#000000"));
        assert!(!usable_color("#ffffff"));
        assert!(!usable_color("#ffeb3b"));
        assert!(!usable_color("blue"));
        assert!(!usable_color("#0b4f8"));
        assert!(!usable_color("#0b4f8g"));
    }
}
