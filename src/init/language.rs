//! `init`'s guess of the column that holds each patient's language: a column named like one
//! (`Language`, `preferred_language`, `langue`), or one whose sampled values are mostly
//! language names or codes ([`crate::campaign::language_names::code_of`]). The starter
//! writes the mapping it read, commented out, for the user to review
//! ([`crate::init::starter`]).

use std::io::Write;

use crate::campaign::language_names;
use crate::init::guess::Sample;

/// The most distinct values the starter's `values:` lists.
pub const MAX_VALUES: usize = 20;

/// A column found by its values alone needs this share of its non-empty sampled cells to
/// be languages ...
pub const MIN_PERCENT: usize = 80;

/// ... and at least this many of them.
pub const MIN_VALUES: usize = 3;

/// Header names (lower case, without blanks, `_`, `-` or `.`) that say "language".
const HEADERS: [&str; 9] = [
    "language",
    "lang",
    "preferredlanguage",
    "langue",
    "spokenlanguage",
    "languagepreference",
    "preferredlang",
    "patientlanguage",
    "homelanguage",
];

/// The language column found, and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageGuess {
    pub column: String,
    /// Found by its name (else by its values).
    pub by_name: bool,
    /// Non-empty sampled cells, and those that name a language.
    pub sampled: usize,
    pub recognised: usize,
    /// The distinct values seen (ignoring case and surrounding blanks), in the order first
    /// seen, at most [`MAX_VALUES`].
    pub values: Vec<SeenValue>,
    /// Distinct values seen beyond those.
    pub more_values: usize,
    /// The languages found, by key, the most frequent first (ties in the order first seen).
    pub languages: Vec<&'static str>,
}

/// One distinct value of the column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenValue {
    /// As first seen, trimmed.
    pub text: String,
    /// The language it names.
    pub code: Option<&'static str>,
}

/// What `init` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Column(LanguageGuess),
    /// A column named like a language column, none of whose values is a language.
    Unread(String),
    Nothing,
}

/// Looks for the language column among every column but the phone column: a column named
/// like one wins over a column found by its values; among equals, the one with the most
/// languages, then the first.
pub fn guess(sample: &Sample, phone_index: usize) -> Found {
    let mut best: Option<LanguageGuess> = None;
    let mut unread = None;
    for (i, column) in sample.header.iter().enumerate() {
        if i == phone_index || sample.header[..i].contains(column) {
            continue;
        }
        let g = read_column(sample, i);
        if g.by_name && g.recognised == 0 {
            unread.get_or_insert_with(|| column.clone());
        }
        if !fits(&g) {
            continue;
        }
        let better = best
            .as_ref()
            .is_none_or(|b| (g.by_name, g.recognised) > (b.by_name, b.recognised));
        if better {
            best = Some(g);
        }
    }
    match (best, unread) {
        (Some(g), _) => Found::Column(g),
        (None, Some(column)) => Found::Unread(column),
        (None, None) => Found::Nothing,
    }
}

/// Whether a column's values make it the language column.
fn fits(g: &LanguageGuess) -> bool {
    if g.by_name {
        return g.recognised > 0;
    }
    // A column holding only one two-letter code (`AM` of a clinic session, say) is not taken
    // for a language by its values alone.
    let only_short_codes = g
        .values
        .iter()
        .filter(|v| v.code.is_some())
        .all(|v| v.text.chars().count() <= 2);
    g.recognised >= MIN_VALUES
        && g.recognised * 100 >= g.sampled * MIN_PERCENT
        && !(only_short_codes && g.languages.len() < 2)
}

fn named_like_language(header: &str) -> bool {
    let squashed: String = header
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '_' | '-' | '.'))
        .flat_map(char::to_lowercase)
        .collect();
    HEADERS.contains(&squashed.as_str())
}

fn read_column(sample: &Sample, index: usize) -> LanguageGuess {
    let mut g = LanguageGuess {
        column: sample.header[index].clone(),
        by_name: named_like_language(&sample.header[index]),
        sampled: 0,
        recognised: 0,
        values: Vec::new(),
        more_values: 0,
        languages: Vec::new(),
    };
    // Distinct values by their folded text; the counts of each language.
    let mut seen: Vec<String> = Vec::new();
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    for cell in sample.rows.iter().filter_map(|r| r.get(index)) {
        let cell = cell.trim();
        if cell.is_empty() {
            continue;
        }
        g.sampled += 1;
        let code = language_names::code_of(cell);
        if let Some(code) = code {
            g.recognised += 1;
            match counts.iter_mut().find(|(c, _)| *c == code) {
                Some((_, n)) => *n += 1,
                None => counts.push((code, 1)),
            }
        }
        let folded = cell.to_lowercase();
        if seen.contains(&folded) {
            continue;
        }
        seen.push(folded);
        if g.values.len() < MAX_VALUES {
            g.values.push(SeenValue {
                text: cell.to_owned(),
                code,
            });
        } else {
            g.more_values += 1;
        }
    }
    // A stable sort keeps the first seen first among equals.
    counts.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
    g.languages = counts.into_iter().map(|(c, _)| c).collect();
    g
}

/// Why the column was taken, for the human output and the starter's comment.
pub fn describe(g: &LanguageGuess) -> String {
    let names = g
        .languages
        .iter()
        .map(|c| format!("{} ({c})", language_names::english_name(c).unwrap_or(c)))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "`{}`, {}: {} of {} sampled values are languages: {names}",
        shown(&g.column),
        if g.by_name {
            "named like a language column"
        } else {
            "by its values"
        },
        g.recognised,
        g.sampled,
    )
}

/// A column's name as init's lines show it: bounded, inert, on one line.
fn shown(column: &str) -> String {
    crate::load::diagnostic::quoted(column).replace(['\n', '\t'], " ")
}

/// init's line about the language column; nothing when no column looks like one.
pub fn report(found: &Found, out: &mut dyn Write) -> std::io::Result<()> {
    match found {
        Found::Column(g) => writeln!(
            out,
            "  language column (guessed): {}; the starter's `language:` and `languages:` are commented out: review them, then uncomment",
            describe(g)
        ),
        Found::Unread(column) => writeln!(
            out,
            "  language column: none (`{}` is named like one, but none of its sampled values is a language init knows)",
            shown(column)
        ),
        Found::Nothing => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::guess::tests::sample;

    fn found(s: &Sample) -> LanguageGuess {
        match guess(s, 0) {
            Found::Column(g) => g,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_column_named_language_is_taken_with_its_values() {
        let s = sample(
            &["tel", "Preferred Language", "clinic"],
            &[
                &["0803", "Hausa", "Yaba"],
                &["0805", "HAU", "Yaba"],
                &["0806", " hausa ", "Yaba"],
                &["0807", "Yoruba", "Yaba"],
                &["0808", "", "Yaba"],
                &["0809", "Other", "Yaba"],
            ],
        );
        let g = found(&s);
        assert_eq!(g.column, "Preferred Language");
        assert!(g.by_name);
        assert_eq!((g.recognised, g.sampled), (4, 5));
        let texts: Vec<(&str, Option<&str>)> =
            g.values.iter().map(|v| (v.text.as_str(), v.code)).collect();
        assert_eq!(
            texts,
            [
                ("Hausa", Some("ha")),
                ("HAU", Some("ha")),
                ("Yoruba", Some("yo")),
                ("Other", None)
            ],
            "distinct ignoring case and blanks"
        );
        assert_eq!(g.languages, ["ha", "yo"], "the most frequent first");
        assert_eq!(
            describe(&g),
            "`Preferred Language`, named like a language column: 4 of 5 sampled values are languages: Hausa (ha), Yoruba (yo)"
        );
    }

    #[test]
    fn headers_named_like_a_language_column() {
        for h in [
            "language",
            "Language",
            "LANG",
            "preferred_language",
            "Spoken Language",
            "langue",
            "preferred-language",
        ] {
            assert!(named_like_language(h), "{h}");
        }
        for h in ["languages_spoken_count", "slang", "clinic", ""] {
            assert!(!named_like_language(h), "{h}");
        }
    }

    #[test]
    fn a_column_of_language_names_is_found_by_its_values() {
        let s = sample(
            &["tel", "lingo"],
            &[
                &["1", "Igbo"],
                &["2", "English"],
                &["3", "Pidgin"],
                &["4", "Igbo"],
                &["5", "Ibo"],
            ],
        );
        let g = found(&s);
        assert_eq!(g.column, "lingo");
        assert!(!g.by_name);
        assert_eq!(g.languages, ["ig", "en", "pcm"]);
    }

    #[test]
    fn too_few_or_too_mixed_values_are_not_a_language_column() {
        // Two values only.
        let s = sample(&["tel", "x"], &[&["1", "Hausa"], &["2", "Yoruba"]]);
        assert_eq!(guess(&s, 0), Found::Nothing);
        // Under 80% languages.
        let s = sample(
            &["tel", "x"],
            &[
                &["1", "Hausa"],
                &["2", "Yoruba"],
                &["3", "Igbo"],
                &["4", "Kano"],
            ],
        );
        assert_eq!(guess(&s, 0), Found::Nothing);
        // A session column of `AM`: one two-letter code is not a language by its values.
        let s = sample(
            &["tel", "session"],
            &[&["1", "AM"], &["2", "AM"], &["3", "am"]],
        );
        assert_eq!(guess(&s, 0), Found::Nothing);
        // The phone column itself is never the language column.
        let s = sample(&["Language"], &[&["Hausa"], &["Hausa"], &["Hausa"]]);
        assert_eq!(guess(&s, 0), Found::Nothing);
    }

    #[test]
    fn a_named_column_of_unknown_values_is_said_but_not_taken() {
        let s = sample(&["tel", "language"], &[&["1", "L1"], &["2", "L2"]]);
        assert_eq!(guess(&s, 0), Found::Unread("language".to_owned()));
        let mut out = Vec::new();
        report(&guess(&s, 0), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("`language` is named like one"), "{text}");
    }

    #[test]
    fn the_named_column_wins_and_values_are_bounded() {
        let mut rows: Vec<Vec<String>> = Vec::new();
        for i in 0..30 {
            rows.push(vec![
                i.to_string(),
                "Hausa".to_owned(),
                if i % 2 == 0 { "Hausa" } else { "Yoruba" }.to_owned(),
                format!("L{i}"),
            ]);
        }
        let s = Sample {
            header: ["tel", "mother_tongue", "lang", "spare"]
                .map(str::to_owned)
                .to_vec(),
            rows,
            total_rows: 30,
            ..Sample::default()
        };
        assert_eq!(found(&s).column, "lang");
        // 30 distinct values: 20 listed, 10 counted.
        let s = Sample {
            header: ["tel", "language"].map(str::to_owned).to_vec(),
            rows: (0..30)
                .map(|i| {
                    vec![
                        i.to_string(),
                        if i == 0 {
                            "Hausa".to_owned()
                        } else {
                            format!("L{i}")
                        },
                    ]
                })
                .collect(),
            total_rows: 30,
            ..Sample::default()
        };
        let g = found(&s);
        assert_eq!((g.values.len(), g.more_values), (MAX_VALUES, 10));
    }
}
