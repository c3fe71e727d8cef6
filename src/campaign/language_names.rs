//! The languages of the voicebot's markets (Nigeria, Ghana, Kenya, South Africa, Rwanda,
//! Uganda, Ethiopia and their neighbours): each one's BCP-47 key, the names a clinic export
//! writes for it, and the robocall accent that suits it. `init` reads a language column with
//! it ([`code_of`]) and suggests each language's voice ([`suggested_accent`]).

/// One language: its key and the ways a patient file names it.
#[derive(Debug, Clone, Copy)]
pub struct LanguageName {
    /// The BCP-47 tag, the key of the campaign's `languages:` (`ha`, `pcm`).
    pub code: &'static str,
    /// The English name, as people are told of it.
    pub english: &'static str,
    /// Other names a cell may hold, matched ignoring case: endonyms, ISO 639-2/3 codes,
    /// common spellings. The code and the English name are matched without being listed.
    pub names: &'static [&'static str],
    /// The robocall accent that suits it (one of `voicebot_api::wire::ROBOCALL_ACCENTS`),
    /// `None` when none does.
    pub accent: Option<&'static str>,
    /// Why the accent is what it is, when that is not plain (written beside it by `init`).
    pub note: Option<&'static str>,
}

/// A cell longer than this is not a language name.
pub const MAX_CELL_BYTES: usize = 64;

const fn lang(
    code: &'static str,
    english: &'static str,
    names: &'static [&'static str],
    accent: Option<&'static str>,
) -> LanguageName {
    LanguageName {
        code,
        english,
        names,
        accent,
        note: None,
    }
}

/// Every language `init` recognises. No name belongs to two languages (a test holds it).
pub const LANGUAGES: &[LanguageName] = &[
    // Nigeria.
    lang("ha", "Hausa", &["hau", "Harshen Hausa"], Some("hausa")),
    lang(
        "yo",
        "Yoruba",
        &["yor", "Yorùbá", "Èdè Yorùbá", "Ede Yoruba"],
        Some("yoruba"),
    ),
    lang(
        "ig",
        "Igbo",
        &["ibo", "Asụsụ Igbo", "Asusu Igbo"],
        Some("igbo"),
    ),
    lang(
        "pcm",
        "Nigerian Pidgin",
        &[
            "Pidgin",
            "Naija",
            "Pidgin English",
            "Naijá",
            "Broken English",
        ],
        Some("pidgin"),
    ),
    LanguageName {
        code: "en",
        english: "English",
        names: &["eng", "Engl"],
        accent: Some("pidgin"),
        note: Some("robocall accents have no `english`: pidgin is the nearest"),
    },
    lang(
        "ff",
        "Fulfulde",
        &["ful", "fuv", "Fula", "Fulani", "Fulah", "Pulaar", "Peul"],
        Some("fulani"),
    ),
    lang("kr", "Kanuri", &["kau", "knc", "Beriberi"], Some("kanuri")),
    lang("tiv", "Tiv", &[], Some("tiv")),
    LanguageName {
        code: "efi",
        english: "Efik",
        names: &[],
        accent: Some("ibibio"),
        note: Some("no Efik accent: Ibibio, its close neighbour, is the nearest"),
    },
    lang("ibb", "Ibibio", &[], Some("ibibio")),
    lang("bin", "Edo", &["Bini", "Benin"], Some("benin")),
    lang("nup", "Nupe", &[], Some("nupe")),
    lang("idu", "Idoma", &[], Some("idoma")),
    lang("igl", "Igala", &[], Some("igala")),
    lang("igb", "Ebira", &["Ebirra", "Igbirra"], Some("ebira")),
    lang("urh", "Urhobo", &[], Some("urhobo")),
    lang("iso", "Isoko", &[], Some("isoko")),
    lang("ijc", "Ijaw", &["ijo", "Izon", "Ijo"], Some("ijaw")),
    // Ghana.
    lang(
        "tw",
        "Twi",
        &["twi", "Asante Twi", "Akuapem Twi", "Asante"],
        Some("twi"),
    ),
    lang(
        "ak",
        "Akan",
        &["aka", "Fante", "Fanti", "fat"],
        Some("akan"),
    ),
    // `ga` is Irish in BCP-47, but no Irish is spoken in these markets: a Ghanaian file's
    // `Ga` is the Ga language.
    lang("gaa", "Ga", &["Ga"], Some("ga")),
    lang("ee", "Ewe", &["ewe", "Eʋegbe"], None),
    lang("dag", "Dagbani", &["Dagbanli"], None),
    // East Africa.
    lang(
        "sw",
        "Swahili",
        &["swa", "swh", "Kiswahili"],
        Some("swahili"),
    ),
    lang(
        "rw",
        "Kinyarwanda",
        &["kin", "Ikinyarwanda", "Rwanda"],
        Some("kinyarwanda"),
    ),
    lang(
        "lg",
        "Luganda",
        &["lug", "Ganda", "Oluganda"],
        Some("luganda"),
    ),
    lang(
        "am",
        "Amharic",
        &["amh", "አማርኛ", "Amarigna", "Amharigna"],
        Some("amharic"),
    ),
    lang(
        "om",
        "Oromo",
        &["orm", "gaz", "Afaan Oromoo", "Oromiffa"],
        None,
    ),
    lang("ti", "Tigrinya", &["tir", "ትግርኛ"], None),
    lang("so", "Somali", &["som", "Soomaali"], None),
    lang("ki", "Kikuyu", &["kik", "Gikuyu", "Gĩkũyũ"], None),
    lang("luo", "Dholuo", &["Luo"], None),
    // Southern Africa.
    lang("zu", "Zulu", &["zul", "isiZulu"], Some("zulu")),
    lang("xh", "Xhosa", &["xho", "isiXhosa"], Some("xhosa")),
    lang("af", "Afrikaans", &["afr"], Some("afrikaans")),
    lang(
        "ny",
        "Chichewa",
        &["nya", "Chewa", "Nyanja", "Chinyanja"],
        Some("chichewa"),
    ),
    lang("sn", "Shona", &["sna", "chiShona"], Some("shona")),
    lang(
        "st",
        "Sesotho",
        &["sot", "Sotho", "Southern Sotho"],
        Some("sesotho"),
    ),
    lang("tn", "Setswana", &["tsn", "Tswana"], Some("tswana")),
    lang(
        "ss",
        "Siswati",
        &["ssw", "Swati", "Swazi", "siSwati"],
        Some("siswati"),
    ),
    lang(
        "nr",
        "isiNdebele",
        &["nbl", "Ndebele", "South Ndebele", "Southern Ndebele"],
        Some("isindebele"),
    ),
    lang(
        "nso",
        "Sepedi",
        &["Pedi", "Northern Sotho", "Sesotho sa Leboa"],
        Some("sepedi"),
    ),
    // Across the markets.
    lang(
        "fr",
        "French",
        &["fra", "fre", "Français", "Francais"],
        Some("french"),
    ),
    lang(
        "ar",
        "Arabic",
        &["ara", "العربية", "Arabiya"],
        Some("arabic"),
    ),
    lang("pt", "Portuguese", &["por", "Português", "Portugues"], None),
    lang("wo", "Wolof", &["wol"], None),
    lang("ln", "Lingala", &["lin"], None),
];

/// The language a cell names, by its key: `Hausa`, `HAU`, ` hausa `, `ha` and `ha-NG` are
/// all `ha`. Blanks around and inside are ignored as single spaces; a cell over
/// [`MAX_CELL_BYTES`] is not read.
pub fn code_of(cell: &str) -> Option<&'static str> {
    let cell = cell.trim();
    if cell.is_empty() || cell.len() > MAX_CELL_BYTES {
        return None;
    }
    let folded = fold(cell);
    if let Some(l) = LANGUAGES.iter().find(|l| {
        l.code == folded || fold(l.english) == folded || l.names.iter().any(|n| fold(n) == folded)
    }) {
        return Some(l.code);
    }
    // A tag with a script, a region or both (`en-NG`, `sw_KE`, `ha-Latn-NG`): its language.
    // Nothing else: `LG-0001`, a patient id, is not Luganda.
    let mut parts = folded.split(['-', '_']);
    let primary = parts.next()?;
    let rest: Vec<&str> = parts.collect();
    let script = |s: &str| s.len() == 4 && s.chars().all(|c| c.is_ascii_alphabetic());
    let region = |s: &str| {
        (s.len() == 2 && s.chars().all(|c| c.is_ascii_alphabetic()))
            || (s.len() == 3 && s.chars().all(|c| c.is_ascii_digit()))
    };
    let subtags_fit = match rest.as_slice() {
        [one] => script(one) || region(one),
        [s, r] => script(s) && region(r),
        _ => false,
    };
    if !subtags_fit {
        return None;
    }
    LANGUAGES.iter().find(|l| l.code == primary).map(|l| l.code)
}

/// The robocall accent suggested for a language's key, `None` when no accent suits it (or
/// the key is not one of [`LANGUAGES`]).
pub fn suggested_accent(code: &str) -> Option<&'static str> {
    language(code).and_then(|l| l.accent)
}

/// The English name of a language's key (`ha` → `Hausa`).
pub fn english_name(code: &str) -> Option<&'static str> {
    language(code).map(|l| l.english)
}

/// The table's entry of a key.
pub fn language(code: &str) -> Option<&'static LanguageName> {
    LANGUAGES.iter().find(|l| l.code == code)
}

/// Lower case, blanks as single spaces.
fn fold(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_codes_and_spellings_give_the_key() {
        for (cell, code) in [
            ("Hausa", "ha"),
            ("HAU", "ha"),
            ("  hausa ", "ha"),
            ("ha", "ha"),
            ("HA", "ha"),
            ("Yoruba", "yo"),
            ("Yorùbá", "yo"),
            ("YORÙBÁ", "yo"),
            ("yor", "yo"),
            ("Igbo", "ig"),
            ("Ibo", "ig"),
            ("Pidgin", "pcm"),
            ("Nigerian  Pidgin", "pcm"),
            ("naija", "pcm"),
            ("English", "en"),
            ("ENG", "en"),
            ("en-NG", "en"),
            ("sw_KE", "sw"),
            ("ha-Latn-NG", "ha"),
            ("en-001", "en"),
            ("Kiswahili", "sw"),
            ("isiZulu", "zu"),
            ("አማርኛ", "am"),
            ("Twi", "tw"),
            ("Fante", "ak"),
            ("Ga", "gaa"),
            ("Français", "fr"),
            ("Sesotho sa Leboa", "nso"),
            ("Northern Sotho", "nso"),
            ("Sotho", "st"),
        ] {
            assert_eq!(code_of(cell), Some(code), "{cell:?}");
        }
    }

    #[test]
    fn other_cells_are_not_languages() {
        for cell in [
            "",
            "   ",
            "Other",
            "AM PM",
            "1",
            "en-",
            "en-N",
            "xx-NG",
            // Regression: the patient ids of the measles example were read as Luganda.
            "LG-0001",
            "ha-12",
            "en-NG-NG",
            "en-Latn-x",
            "Hausa, English",
            "Hausa\nEnglish",
        ] {
            assert_eq!(code_of(cell), None, "{cell:?}");
        }
        // Bounded: a long cell is not read, even when it ends in a name.
        let long = format!("{}Hausa", " x".repeat(40));
        assert_eq!(code_of(&long), None);
        assert_eq!(code_of(&"a".repeat(10_000)), None);
        // 64 bytes of blanks around a name are trimmed first.
        assert_eq!(
            code_of(&format!("{}Hausa{}", " ".repeat(40), " ".repeat(40))),
            Some("ha")
        );
    }

    #[test]
    fn every_suggested_accent_is_a_robocall_accent() {
        for l in LANGUAGES {
            if let Some(a) = l.accent {
                assert!(
                    voicebot_api::wire::ROBOCALL_ACCENTS.contains(&a),
                    "{}: {a}",
                    l.code
                );
            }
        }
        assert_eq!(suggested_accent("ha"), Some("hausa"));
        assert_eq!(suggested_accent("en"), Some("pidgin"));
        assert!(
            language("en")
                .unwrap()
                .note
                .unwrap()
                .contains("no `english`")
        );
        assert_eq!(suggested_accent("om"), None, "no Oromo accent");
        assert_eq!(suggested_accent("zz"), None);
        assert_eq!(english_name("yo"), Some("Yoruba"));
        assert_eq!(english_name("zz"), None);
    }

    #[test]
    fn the_required_markets_languages_are_there() {
        for code in [
            "ha", "yo", "ig", "pcm", "en", "fr", "sw", "zu", "xh", "am", "rw", "lg", "tw", "ak",
            "ff", "kr", "tiv", "efi", "ibb", "ny", "sn", "st", "tn", "ss", "nr", "nso", "af", "ar",
        ] {
            assert!(language(code).is_some(), "{code}");
        }
    }

    #[test]
    fn no_name_belongs_to_two_languages_and_keys_are_tags() {
        let mut seen: std::collections::BTreeMap<String, &str> = std::collections::BTreeMap::new();
        for l in LANGUAGES {
            assert!(
                (2..=3).contains(&l.code.len()) && l.code.chars().all(|c| c.is_ascii_lowercase()),
                "{}",
                l.code
            );
            for name in [l.code, l.english].iter().chain(l.names) {
                assert!(name.len() <= MAX_CELL_BYTES, "{name}");
                if let Some(other) = seen.insert(fold(name), l.code) {
                    assert_eq!(other, l.code, "{name} names {other} and {}", l.code);
                }
                assert_eq!(code_of(name), Some(l.code), "{name}");
            }
        }
    }
}
