use serde::{Deserialize, Serialize};

/// The languages mashov speaks to residents and employees in. Hebrew is the default.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    He,
    Ar,
    En,
    Ru,
}

impl Language {
    pub const ALL: [Language; 4] = [Language::He, Language::Ar, Language::En, Language::Ru];

    pub fn code(self) -> &'static str {
        match self {
            Language::He => "he",
            Language::Ar => "ar",
            Language::En => "en",
            Language::Ru => "ru",
        }
    }

    /// Text direction for `<html dir>`: Hebrew and Arabic read right to left.
    pub fn dir(self) -> &'static str {
        match self {
            Language::He | Language::Ar => "rtl",
            Language::En | Language::Ru => "ltr",
        }
    }

    pub fn parse(code: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_round_trips_through_its_code() {
        for l in Language::ALL {
            assert_eq!(Language::parse(l.code()), Some(l));
        }
        assert_eq!(Language::parse("HE"), None);
        assert_eq!(Language::parse("fr"), None);
    }

    #[test]
    fn hebrew_and_arabic_are_right_to_left() {
        assert_eq!(Language::He.dir(), "rtl");
        assert_eq!(Language::Ar.dir(), "rtl");
        assert_eq!(Language::En.dir(), "ltr");
        assert_eq!(Language::Ru.dir(), "ltr");
    }
}
