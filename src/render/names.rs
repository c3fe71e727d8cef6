//! Weekday, month and number words in a language, from CLDR's data compiled into the binary
//! through ICU4X (no data file or network at run time): what the `date` and `number` helpers
//! write when a template gives `locale="ha"`.
//!
//! A language is named by a tag (`ha`, `yo-NG`, `sw-KE`). Its extensions are dropped
//! (`ha-u-nu-arab` is `ha`: a tag in a campaign never changes the digits or the calendar), the
//! calendar is always the Gregorian one, and the names are CLDR's *format* forms (`EEEE`,
//! `EEE`, `MMMM`, `MMM`), the ones used inside a date. CLDR answers a language it lacks with
//! its root names (`M01`, `Fri`); that is detected here and is an error
//! ([`NamesError::NotInCldr`]), never root's words read to a patient.
//!
//! The names of a language are computed once (about 40 strings and a number formatter) and
//! kept in a small shared cache, so a row costs an array index; plan renders on several
//! threads, and the cache is behind a mutex taken once per template per row at most.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};

use icu_calendar::{Date, Gregorian};
use icu_datetime::fieldsets::enums::DateFieldSet;
use icu_datetime::pattern::{DateTimePattern, FixedCalendarDateTimeNames};
use icu_decimal::DecimalFormatter;
use icu_locale_core::{LanguageIdentifier, Locale};
use writeable::TryWriteable;

/// The longest tag read (BCP 47 tags in use are far shorter; a longer one is refused before
/// it is parsed or repeated in a message).
pub const MAX_TAG_LEN: usize = 35;

/// How many languages the cache keeps; more are computed each time (still correct).
const CACHE_SIZE: usize = 64;

/// The longest number the `number` helper reads, in characters.
pub const MAX_NUMBER_LEN: usize = 40;

/// Why a language has no names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NamesError {
    /// Not a BCP 47 language tag (or too long to be one).
    #[error("{} is not a language tag (such as `ha`, `yo` or `sw-KE`)", shown(.0))]
    NotATag(String),
    /// A well-formed tag whose language CLDR has no names for.
    #[error("CLDR has no month and weekday names for `{0}`")]
    NotInCldr(String),
    /// ICU4X could not load its compiled data (not expected: the data is in the binary).
    #[error("the names for `{tag}` could not be loaded: {why}")]
    Data { tag: String, why: String },
}

/// A tag as a message shows it: quoted when short enough to be a tag, described otherwise.
fn shown(tag: &str) -> String {
    if tag.len() <= MAX_TAG_LEN {
        format!("`{tag}`")
    } else {
        format!("a value of {} characters", tag.chars().count())
    }
}

/// The words of one language.
#[derive(Debug)]
pub struct Names {
    /// The tag as ICU reads it, extensions dropped (`ha`, `yo-NG`).
    tag: String,
    english: bool,
    /// Monday first.
    weekdays_wide: [String; 7],
    weekdays_abbreviated: [String; 7],
    /// January first.
    months_wide: [String; 12],
    months_abbreviated: [String; 12],
    decimal: DecimalFormatter,
}

/// The names of `tag`'s language, from the cache or computed (and cached while there is room).
pub fn for_tag(tag: &str) -> Result<Arc<Names>, NamesError> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Names>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    // A poisoned lock only means another thread panicked while inserting: the map is intact.
    if let Some(hit) = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(tag)
    {
        return Ok(Arc::clone(hit));
    }
    let names = Arc::new(Names::new(tag)?);
    let mut map = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if map.len() < CACHE_SIZE {
        map.insert(tag.to_owned(), Arc::clone(&names));
    }
    Ok(names)
}

/// The tag's language identifier, its extensions dropped.
fn language_id(tag: &str) -> Result<LanguageIdentifier, NamesError> {
    if tag.is_empty() || tag.len() > MAX_TAG_LEN {
        return Err(NamesError::NotATag(tag.to_owned()));
    }
    Locale::try_from_str(tag)
        .map(|l| l.id)
        .map_err(|_| NamesError::NotATag(tag.to_owned()))
}

/// One pattern's strings for each date (year, month, day), from a names object of its own
/// (ICU keeps one length of month and weekday names per object).
fn words<const N: usize>(
    locale: &Locale,
    pattern: &str,
    dates: [(i32, u8, u8); N],
) -> Result<[String; N], String> {
    let pattern = DateTimePattern::from_str(pattern).map_err(|e| e.to_string())?;
    let mut names: FixedCalendarDateTimeNames<Gregorian, DateFieldSet> =
        FixedCalendarDateTimeNames::try_new(locale.into()).map_err(|e| e.to_string())?;
    let formatter = names
        .include_for_pattern(&pattern)
        .map_err(|e| e.to_string())?;
    let mut out: [String; N] = std::array::from_fn(|_| String::new());
    for (slot, (year, month, day)) in out.iter_mut().zip(dates) {
        let date = Date::try_new_gregorian(year, month, day).map_err(|e| e.to_string())?;
        *slot = formatter
            .format(&date)
            .try_write_to_string()
            .map_err(|(e, _)| e.to_string())?
            .into_owned();
    }
    Ok(out)
}

/// 2024-01-01 is a Monday: the week from it, Monday first.
fn week() -> [(i32, u8, u8); 7] {
    [1, 2, 3, 4, 5, 6, 7].map(|d| (2024, 1, d))
}

fn year_of_months() -> [(i32, u8, u8); 12] {
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map(|m| (2024, m, 1))
}

/// Root's name for January ("M01"): what CLDR answers for a language it lacks.
fn root_january() -> &'static str {
    static ROOT: OnceLock<String> = OnceLock::new();
    ROOT.get_or_init(|| {
        words(&Locale::UNKNOWN, "MMMM", [(2024, 1, 1)])
            .map(|[m]| m)
            .unwrap_or_default()
    })
}

impl Names {
    /// Computes the names of `tag`'s language; [`for_tag`] caches them.
    pub fn new(tag: &str) -> Result<Names, NamesError> {
        let id = language_id(tag)?;
        let shown_tag = id.to_string();
        let locale = Locale::from(id);
        let data = |why: String| NamesError::Data {
            tag: shown_tag.clone(),
            why,
        };
        let months_wide = words(&locale, "MMMM", year_of_months()).map_err(data)?;
        if months_wide[0] == root_january() {
            return Err(NamesError::NotInCldr(shown_tag));
        }
        // Latin digits always, as the dates write them: a language whose CLDR default is
        // another numbering system (`bn`, `ff-Adlm`) keeps its separators, not its digits.
        let mut latin = locale.clone();
        latin.extensions.unicode.keywords.set(
            icu_locale_core::extensions::unicode::key!("nu"),
            icu_locale_core::extensions::unicode::value!("latn"),
        );
        let decimal = DecimalFormatter::try_new(
            (&latin).into(),
            icu_decimal::options::DecimalFormatterOptions::default(),
        )
        .map_err(|e| data(e.to_string()))?;
        Ok(Names {
            english: locale.id.language.as_str() == "en",
            weekdays_wide: words(&locale, "EEEE", week()).map_err(data)?,
            weekdays_abbreviated: words(&locale, "EEE", week()).map_err(data)?,
            months_abbreviated: words(&locale, "MMM", year_of_months()).map_err(data)?,
            months_wide,
            decimal,
            tag: shown_tag,
        })
    }

    /// The tag as read, extensions dropped.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// Whether the language is English, whose words jiff also writes (`%c`, `%p`).
    pub fn is_english(&self) -> bool {
        self.english
    }

    /// The weekday's name, wide (`Jummaʼa`) or abbreviated (`Jum`).
    pub fn weekday(&self, day: jiff::civil::Weekday, wide: bool) -> &str {
        let i = usize::try_from(day.to_monday_zero_offset()).unwrap_or(0);
        if wide {
            &self.weekdays_wide[i]
        } else {
            &self.weekdays_abbreviated[i]
        }
    }

    /// The month's name (1 to 12), wide (`Janairu`) or abbreviated (`Jan`).
    pub fn month(&self, month: i8, wide: bool) -> &str {
        let i = usize::try_from(month - 1).unwrap_or(0).min(11);
        if wide {
            &self.months_wide[i]
        } else {
            &self.months_abbreviated[i]
        }
    }

    /// A number written with digits and an optional point (`1234567.5`, `-12`), written with
    /// the language's grouping and decimal separator (`1,234,567.5`; `1.234.567,5` in `rw`).
    /// Anything else is refused, never guessed: grouping already written (`1,234` could be a
    /// thousand or one and a fraction), exponents, signs other than a leading `-`.
    pub fn number(&self, text: &str) -> Result<String, NumberProblem> {
        let text = text.trim();
        if text.chars().count() > MAX_NUMBER_LEN {
            return Err(NumberProblem::TooLong);
        }
        let digits = text.strip_prefix('-').unwrap_or(text);
        let (whole, fraction) = match digits.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (digits, None),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
            return Err(NumberProblem::NotANumber);
        }
        // `0012` is a code or a padded field, not an amount: grouped, it would be read out as
        // `0,012` (`0.012` in German). Refused, as is `-0`, rather than guessed.
        let negative_zero = text.starts_with('-')
            && whole.bytes().all(|b| b == b'0')
            && fraction.is_none_or(|f| f.bytes().all(|b| b == b'0'));
        if (whole.len() > 1 && whole.starts_with('0')) || negative_zero {
            return Err(NumberProblem::Padded);
        }
        let value =
            fixed_decimal::Decimal::try_from_str(text).map_err(|_| NumberProblem::NotANumber)?;
        Ok(writeable::Writeable::write_to_string(&self.decimal.format(&value)).into_owned())
    }

    /// `format` (a strftime format) with `%A %a %B %b %h` replaced by this language's names for
    /// `date`, and `%` in them escaped, for jiff to write the rest as it always does.
    pub fn localise(&self, format: &str, date: jiff::civil::Date) -> Result<String, String> {
        if let Some(problem) = self.format_problem(format) {
            return Err(problem);
        }
        let mut out = String::with_capacity(format.len() + 16);
        for piece in directives(format) {
            match piece {
                Piece::Name { wide, weekday } => {
                    let word = if weekday {
                        self.weekday(date.weekday(), wide)
                    } else {
                        self.month(date.month(), wide)
                    };
                    out.push_str(&word.replace('%', "%%"));
                }
                Piece::Other(text) | Piece::Refused(text) => out.push_str(text),
            }
        }
        Ok(out)
    }

    /// What is wrong with a `date` format in this language, found without a row: `None` when
    /// it writes.
    pub fn format_problem(&self, format: &str) -> Option<String> {
        directives(format)
            .find_map(|p| match p {
                Piece::Other(d) if d.starts_with('%') => {
                    d.chars().last().filter(|&c| self.refuses(c)).map(|_| d)
                }
                Piece::Refused(d) => Some(d),
                _ => None,
            })
            .map(|d| self.refusal(d))
    }

    fn refusal(&self, directive: &str) -> String {
        if directive.len() > 2 {
            format!(
                "`{directive}` with `locale=\"{}\"`: flags and widths are not written on names in a language; write `%{}`",
                self.tag,
                directive.chars().last().unwrap_or('A')
            )
        } else {
            format!(
                "`{directive}` writes English words or an English order, and `locale=\"{}\"` is not English: write the parts (`%-d %B %Y`, `%H:%M`)",
                self.tag
            )
        }
    }

    /// Whether a directive is refused in this language.
    fn refuses(&self, conversion: char) -> bool {
        !self.english && matches!(conversion, 'c' | 'x' | 'X' | 'p' | 'P' | 'r')
    }
}

enum Piece<'a> {
    /// `%A` (weekday, wide), `%a`, `%B` (month, wide), `%b` and `%h`.
    Name { wide: bool, weekday: bool },
    /// Text or a directive jiff writes the same in every language.
    Other(&'a str),
    /// A directive this language cannot write.
    Refused(&'a str),
}

/// The pieces of a strftime format: `%` then jiff's flags, width, colons and precision
/// (`-_0^#`, digits, `:`, `.`), then the conversion. Names with flags or widths are refused
/// (jiff pads and upper-cases its own English names; ours are whole words).
fn directives(format: &str) -> impl Iterator<Item = Piece<'_>> {
    Directives { rest: format }
}

struct Directives<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Directives<'a> {
    type Item = Piece<'a>;

    fn next(&mut self) -> Option<Piece<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        let Some(at) = self.rest.find('%') else {
            let text = self.rest;
            self.rest = "";
            return Some(Piece::Other(text));
        };
        if at > 0 {
            let text = &self.rest[..at];
            self.rest = &self.rest[at..];
            return Some(Piece::Other(text));
        }
        let after = &self.rest[1..];
        let modifiers = after
            .find(|c: char| !matches!(c, '-' | '_' | '0'..='9' | '^' | '#' | ':' | '.'))
            .unwrap_or(after.len());
        let conversion = after[modifiers..].chars().next();
        let end = 1 + modifiers + conversion.map_or(0, char::len_utf8);
        let directive = &self.rest[..end];
        self.rest = &self.rest[end..];
        Some(match conversion {
            Some(c @ ('A' | 'a' | 'B' | 'b' | 'h')) if modifiers == 0 => Piece::Name {
                wide: c.is_ascii_uppercase(),
                weekday: matches!(c, 'A' | 'a'),
            },
            Some('A' | 'a' | 'B' | 'b' | 'h') => Piece::Refused(directive),
            _ => Piece::Other(directive),
        })
    }
}

/// Why a cell is not a number the `number` helper writes. The messages never repeat the cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NumberProblem {
    #[error(
        "is not a number written with digits and an optional point (such as 1234.50, without grouping)"
    )]
    NotANumber,
    #[error("is longer than {MAX_NUMBER_LEN} characters, too long to be an amount or a count")]
    TooLong,
    #[error(
        "starts with a 0 (or is -0), as a code or a padded field does, not an amount or a count"
    )]
    Padded,
}

/// Tags CLDR has that a campaign may mean when it writes a code or name CLDR lacks: the
/// languages of the voicebot's markets and their three-letter codes and English names
/// (Luganda and Fula are not here: CLDR's compiled data lacks them).
const KNOWN: &[(&str, &str, &str)] = &[
    ("en", "eng", "english"),
    ("ha", "hau", "hausa"),
    ("yo", "yor", "yoruba"),
    ("ig", "ibo", "igbo"),
    ("pcm", "pcm", "pidgin"),
    ("sw", "swa", "swahili"),
    ("am", "amh", "amharic"),
    ("zu", "zul", "zulu"),
    ("xh", "xho", "xhosa"),
    ("af", "afr", "afrikaans"),
    ("rw", "kin", "kinyarwanda"),
    ("so", "som", "somali"),
    ("om", "orm", "oromo"),
    ("ti", "tir", "tigrinya"),
    ("ak", "aka", "akan"),
    ("ee", "ewe", "ewe"),
    ("wo", "wol", "wolof"),
    ("fr", "fra", "french"),
    ("ar", "ara", "arabic"),
    ("pt", "por", "portuguese"),
    ("st", "sot", "sesotho"),
    ("tn", "tsn", "setswana"),
];

/// Tags near `written` that CLDR has: the language its three-letter code or English name
/// names, or a code one letter away.
pub fn suggestions(written: &str) -> Vec<&'static str> {
    let lower = written.to_ascii_lowercase();
    let language = lower.split(['-', '_']).next().unwrap_or("");
    let mut out: Vec<&'static str> = KNOWN
        .iter()
        .filter(|(code, three, name)| {
            language == *three
                || language == *name
                || (language.len() <= 3 && strsim::levenshtein(language, code) == 1)
        })
        .map(|(code, _, _)| *code)
        .filter(|code| *code != language && Names::new(code).is_ok())
        .collect();
    out.dedup();
    out.truncate(4);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    /// Issue 20's acceptance: each language's words on Friday 15 January 2027, written here as
    /// CLDR 49 has them (Hausa's ʼ is U+02BC; Yoruba's accents are combining U+0301, not
    /// precomposed, exactly as cldr-json writes them).
    #[test]
    fn cldr_names_on_a_fixed_date() {
        let day = date(2027, 1, 15);
        let cases = [
            ("ha", "Jummaʼa", "Jum", "Janairu", "Jan"),
            ("yo", "Ọjọ́ Ẹtì", "Ẹtì", "Oṣù Ṣẹ́rẹ́", "Oṣù Ṣẹ́rẹ́"),
            ("ig", "Fraịdee", "Fraị", "Jenụwarị", "Jen"),
            ("sw", "Ijumaa", "Ijumaa", "Januari", "Jan"),
            ("am", "ዓርብ", "ዓርብ", "ጃንዋሪ", "ጃን"),
            ("zu", "ULwesihlanu", "Hla", "Januwari", "Jan"),
            ("en", "Friday", "Fri", "January", "Jan"),
        ];
        for (tag, weekday, weekday_short, month, month_short) in cases {
            let n = Names::new(tag).unwrap();
            assert_eq!(n.weekday(day.weekday(), true), weekday, "{tag}");
            assert_eq!(n.weekday(day.weekday(), false), weekday_short, "{tag}");
            assert_eq!(n.month(day.month(), true), month, "{tag}");
            assert_eq!(n.month(day.month(), false), month_short, "{tag}");
        }
        assert!("Jummaʼa".contains('\u{02BC}'));
        assert!("Ọjọ́ Ẹtì".contains('\u{0301}'));
    }

    #[test]
    fn formats_keep_jiffs_directives_and_replace_names() {
        let n = Names::new("ha").unwrap();
        let day = date(2027, 1, 15);
        assert_eq!(
            n.localise("%A %-d %B %Y (%a %b %h) %%A %d/%m", day)
                .unwrap(),
            "Jummaʼa %-d Janairu %Y (Jum Jan Jan) %%A %d/%m"
        );
        for refused in ["%c", "%x", "%X", "%p", "%P", "%r", "%^A", "%10B", "%-a"] {
            assert!(
                n.format_problem(&format!("on %d {refused}")).is_some(),
                "{refused}"
            );
            assert!(n.localise(refused, day).is_err(), "{refused}");
        }
        assert_eq!(n.format_problem("%A %-d %B %Y %H:%M"), None);
        let en = Names::new("en-GB").unwrap();
        assert_eq!(
            en.format_problem("%c %p"),
            None,
            "English words are English"
        );
        assert_eq!(en.month(9, false), "Sept", "en-GB's own abbreviation");
    }

    #[test]
    fn numbers_use_the_languages_separators() {
        let n = |tag: &str, text: &str| Names::new(tag).unwrap().number(text);
        assert_eq!(n("ha", "1234567.5").unwrap(), "1,234,567.5");
        assert_eq!(n("rw", "1234567.5").unwrap(), "1.234.567,5");
        assert_eq!(n("en", " 12 ").unwrap(), "12");
        assert_eq!(
            n("en", "-1000.50").unwrap(),
            "-1,000.50",
            "zeros as written"
        );
        for bad in [
            "", "1,234", "1e5", "+5", "12a", ".5", "5.", "NaN", "inf", "--1", "١٢",
        ] {
            assert_eq!(n("en", bad), Err(NumberProblem::NotANumber), "{bad:?}");
        }
        // Padded: read out as `0,012` (found by a second reader). A lone 0 is a number.
        for padded in ["0012", "0001234", "00", "-0", "-0.00", "00.5"] {
            assert_eq!(n("de", padded), Err(NumberProblem::Padded), "{padded:?}");
        }
        assert_eq!(n("en", "0").unwrap(), "0");
        assert_eq!(n("en", "0.5").unwrap(), "0.5");
        assert_eq!(n("en", "-0.5").unwrap(), "-0.5");
        assert_eq!(n("en", &"9".repeat(41)), Err(NumberProblem::TooLong));
        assert!(n("en", &"9".repeat(40)).is_ok());
    }

    #[test]
    fn extensions_are_dropped_and_languages_cldr_lacks_are_errors() {
        let n = Names::new("ha-u-nu-arab-ca-islamic").unwrap();
        assert_eq!(n.tag(), "ha");
        assert_eq!(
            n.number("12345").unwrap(),
            "12,345",
            "latin digits, not arab"
        );
        assert_eq!(n.month(1, true), "Janairu", "gregorian, not islamic");
        for lacking in ["tw", "sn", "ln", "und", "hau"] {
            assert!(
                matches!(Names::new(lacking), Err(NamesError::NotInCldr(_))),
                "{lacking}"
            );
        }
        for not_a_tag in ["", "h", "ha_NG!", "hausa language", &"a".repeat(36)] {
            assert!(
                matches!(Names::new(not_a_tag), Err(NamesError::NotATag(_))),
                "{not_a_tag:?}"
            );
        }
        let long = NamesError::NotATag("x".repeat(100)).to_string();
        assert!(
            !long.contains("xxxx"),
            "a long value is not repeated: {long}"
        );
    }

    #[test]
    fn suggestions_name_languages_cldr_has() {
        assert_eq!(suggestions("hau"), ["ha"]);
        assert_eq!(suggestions("Yoruba"), ["yo"]);
        assert!(suggestions("qq-NG").is_empty());
        // Every suggestion the table can make is a language CLDR has.
        let lacking: Vec<_> = KNOWN
            .iter()
            .filter(|(c, _, _)| Names::new(c).is_err())
            .map(|k| k.0)
            .collect();
        assert!(lacking.is_empty(), "{lacking:?}");
    }

    #[test]
    fn the_cache_gives_the_same_names_on_every_thread() {
        let first = for_tag("sw").unwrap();
        let others: Vec<_> = (0..4)
            .map(|_| std::thread::spawn(|| for_tag("sw").unwrap()))
            .collect();
        for t in others {
            assert!(Arc::ptr_eq(&first, &t.join().unwrap()));
        }
    }
    #[test]
    fn numbers_keep_latin_digits_in_every_language() {
        // `bn`'s default digits are Bengali: CLDR has it, so the test is not empty.
        assert!(Names::new("bn").is_ok());
        for tag in ["bn", "ar", "ff-Adlm", "fa", "my"] {
            let Ok(names) = Names::new(tag) else { continue };
            let written = names.number("1234567.5").unwrap();
            assert!(
                written.chars().filter(char::is_ascii_digit).count() == 8,
                "{tag}: {written}"
            );
        }
    }
}
