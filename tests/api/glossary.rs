//! The words residents and employees read keep to `locales/glossary.toml`: a wording that a
//! review found wrong (handled for solved, effort for ease, gendered slashes…) does not come
//! back into the locale files or the built-in questionnaires.

use std::collections::BTreeMap;

use serde_json::Value;

#[derive(serde::Deserialize)]
struct Glossary {
    term: Vec<Term>,
}

#[derive(serde::Deserialize)]
struct Term {
    meaning: String,
    he: String,
    ar: String,
    en: String,
    ru: String,
    #[serde(default)]
    avoid: BTreeMap<String, Vec<String>>,
}

const LANGUAGES: [&str; 4] = ["he", "ar", "en", "ru"];

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).expect(path)
}

/// Every string under `v`, with its dotted path.
fn strings(path: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) => out.push((path.to_string(), s.clone())),
        Value::Object(map) => {
            for (k, child) in map {
                strings(&format!("{path}.{k}"), child, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                strings(&format!("{path}[{i}]"), child, out);
            }
        }
        _ => {}
    }
}

/// What a reader of `lang` sees outside the management app: the locale file but its `admin`
/// section (staff tools, reviewed separately), and the questionnaires' texts in that language.
fn public_texts(lang: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let locale: Value = serde_json::from_str(&read(&format!("locales/{lang}.json"))).expect("json");
    for (section, v) in locale.as_object().expect("an object") {
        if section != "admin" {
            strings(&format!("{lang}.{section}"), v, &mut out);
        }
    }
    for survey in [
        "templates/surveys/resident_post_interaction.json",
        "templates/surveys/employee_internal_service.json",
    ] {
        let def: Value = serde_json::from_str(&read(survey)).expect("json");
        let mut all = Vec::new();
        strings(survey, &def, &mut all);
        out.extend(
            all.into_iter()
                .filter(|(path, _)| path.ends_with(&format!(".{lang}"))),
        );
    }
    out
}

#[test]
fn resident_texts_keep_the_glossary() {
    let glossary: Glossary = toml::from_str(&read("locales/glossary.toml")).expect("glossary");
    assert!(glossary.term.len() >= 10);
    let mut found = Vec::new();
    for term in &glossary.term {
        for (lang, word) in LANGUAGES
            .iter()
            .zip([&term.he, &term.ar, &term.en, &term.ru])
        {
            assert!(!word.trim().is_empty(), "{}: no {lang} word", term.meaning);
        }
        for (lang, avoided) in &term.avoid {
            assert!(
                LANGUAGES.contains(&lang.as_str()),
                "unknown language {lang}"
            );
            for (path, text) in public_texts(lang) {
                for bad in avoided {
                    if text.contains(bad.as_str()) {
                        found.push(format!("{path}: {bad:?} ({})", term.meaning));
                    }
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "wordings the glossary avoids:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_glossary_check_sees_the_questionnaires_and_the_locales() {
    // A check that read nothing would pass: make sure it reads what residents read.
    let he = public_texts("he");
    assert!(he.iter().any(|(p, _)| p.starts_with("he.survey.")));
    assert!(he
        .iter()
        .any(|(p, t)| p.contains("resident_post_interaction") && t.contains("נפתרה")));
    assert!(!he.iter().any(|(p, _)| p.starts_with("he.admin.")));
    let ru = public_texts("ru");
    assert!(ru
        .iter()
        .any(|(p, t)| p.ends_with(".ru") && t.contains("муниципалитет")));
}
