//! Guesses for `outreach init`: from a patient file's header and first rows, which column
//! holds the phone numbers, which country numbers without a country code belong to, and what
//! every other column is (a person's name, a date, an identifier, text).
//!
//! Guesses are made from the values, never from a header name alone: the phone column is
//! the one whose values [`crate::patients::phone::normalise`] accepts most often.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::Path;

use crate::campaign::{FileFormat, PatientSource};
use crate::patients::countries::{LIKELY_COUNTRIES, country_label};
use crate::patients::source::SourceError;

/// How many rows are kept to make guesses.
pub const SAMPLE_ROWS: usize = 200;
/// How many non-empty values of a column are looked at.
pub const SAMPLE_VALUES: usize = 50;
/// The share of a column's sampled values (in percent) that must be valid numbers for it to
/// be the phone column.
pub const MIN_PHONE_PERCENT: usize = 50;

/// The first rows of a patient file.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    pub header: Vec<String>,
    /// Up to [`SAMPLE_ROWS`] rows, cells in header order.
    pub rows: Vec<Vec<String>>,
    /// Every data row in the file (the readable ones).
    pub total_rows: u64,
    /// Rows that could not be read (a broken CSV line, a JSON line that is not an object).
    pub unreadable_rows: u64,
    /// Sampled rows whose phone cell a spreadsheet stores as a number (set once the phone
    /// column is known, see [`read_sample`]).
    pub numeric_phones: usize,
}

impl Sample {
    /// The first [`SAMPLE_VALUES`] non-empty values of a column, trimmed.
    pub fn values(&self, column: usize) -> Vec<&str> {
        self.rows
            .iter()
            .filter_map(|r| r.get(column).map(|v| v.trim()))
            .filter(|v| !v.is_empty())
            .take(SAMPLE_VALUES)
            .collect()
    }

    /// How many sampled rows have this column empty.
    pub fn empty(&self, column: usize) -> usize {
        self.rows
            .iter()
            .filter(|r| r.get(column).is_none_or(|v| v.trim().is_empty()))
            .count()
    }
}

/// Reads the header and first rows of a source. `phone_column`, when known, flags phone
/// cells a spreadsheet stores as numbers.
pub fn read_sample(source: &PatientSource, base: &Path) -> Result<Sample, SourceError> {
    let rows = crate::patients::source::open(source, base)?;
    let phone = rows.header.iter().position(|h| h == &source.phone_column);
    let mut sample = Sample {
        header: rows.header.clone(),
        ..Sample::default()
    };
    for row in rows {
        match row {
            Ok(row) => {
                sample.total_rows += 1;
                if sample.rows.len() < SAMPLE_ROWS {
                    if phone.is_some() && row.numeric_phone {
                        sample.numeric_phones += 1;
                    }
                    sample
                        .rows
                        .push(row.cells.iter().map(ToOwned::to_owned).collect());
                }
            }
            Err(_) => sample.unreadable_rows += 1,
        }
    }
    Ok(sample)
}

/// The delimiter of a CSV file, from its first lines: the candidate (`,` `;` tab `|`) that
/// splits every line into the same number of fields, the most fields winning. A comma when
/// nothing fits better.
pub fn sniff_delimiter(
    path: &Path,
    encoding: Option<&'static encoding_rs::Encoding>,
) -> std::io::Result<u8> {
    use std::io::Read as _;
    let file = crate::load::input_file::open(path)?;
    let mut head = Vec::new();
    // Read as text: a UTF-16 file's bytes are not its characters.
    let mut reader =
        BufReader::new(crate::patients::encoding::Decoded::new(file, encoding).take(64 * 1024));
    for _ in 0..20 {
        if reader.read_until(b'\n', &mut head)? == 0 {
            break;
        }
    }
    Ok(delimiter_of(&head))
}

/// See [`sniff_delimiter`].
pub fn delimiter_of(head: &[u8]) -> u8 {
    let mut best = (b',', 1usize);
    for d in [b',', b';', b'\t', b'|'] {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(d)
            .has_headers(false)
            .flexible(true)
            .from_reader(head);
        let widths: Vec<usize> = reader
            .records()
            .map_while(Result::ok)
            .map(|r| r.len())
            .collect();
        // The last line may be cut short by the sniffing limit.
        let complete = if widths.len() > 2 {
            &widths[..widths.len() - 1]
        } else {
            &widths[..]
        };
        // A title or two above the header (issue 19) splits differently from the rows.
        let lines = (0..=complete.len().saturating_sub(2).min(3))
            .map(|skip| &complete[skip..])
            .find(|rest| rest.first().is_some_and(|&w| rest.iter().all(|&x| x == w)));
        let Some(&width) = lines.and_then(|rest| rest.first()) else {
            continue;
        };
        if width > best.1 {
            best = (d, width);
        }
    }
    best.0
}

/// Whether a value could be a phone number at all: digits (7 to 15) with the separators
/// [`crate::patients::phone::normalise`] accepts, and not a date. A cheap filter before the real check.
fn dialable(value: &str) -> bool {
    let mut digits = 0;
    for (i, ch) in value.chars().enumerate() {
        match ch {
            '0'..='9' => digits += 1,
            '+' if i == 0 => {}
            ' ' | '-' | '.' | '(' | ')' | '\u{a0}' | '/' => {}
            _ => return false,
        }
    }
    (7..=15).contains(&digits) && crate::render::template::parse_date(value).is_none()
}

fn is_international(value: &str) -> bool {
    value.starts_with('+') || value.starts_with("00")
}

/// How well one column's values read as phone numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneScore {
    pub column: String,
    pub index: usize,
    /// Non-empty values looked at.
    pub sampled: usize,
    /// Of them, valid numbers (with [`CountryGuess::country`] completing local numbers).
    pub valid: usize,
    pub country: CountryGuess,
}

impl PhoneScore {
    /// The share of sampled values that are valid numbers, in percent (rounded down).
    pub fn percent(&self) -> usize {
        (self.valid * 100).checked_div(self.sampled).unwrap_or(0)
    }

    fn share_ok(&self) -> bool {
        self.valid > 0 && self.valid * 100 >= self.sampled * MIN_PHONE_PERCENT
    }
}

/// The country guessed for a column's numbers, and the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CountryGuess {
    /// The two-letter code; `None` when no country makes the local numbers valid and no
    /// number carries a country code.
    pub country: Option<String>,
    /// Values written with a country code (`+234…`, `00234…`) that are valid numbers.
    pub international: usize,
    /// Valid international numbers per country, most frequent first.
    pub by_country: Vec<(String, usize)>,
    /// Values written without a country code.
    pub local: usize,
    /// Of them, valid in `country`.
    pub local_valid: usize,
    /// The next best country for the local numbers and how many it makes valid.
    pub runner_up: Option<(String, usize)>,
    /// The country was given (`--country`), not guessed.
    pub given: bool,
}

/// Scores a column's values as phone numbers. `given` (a `--country`) is the only country
/// tried for local numbers; otherwise the countries of the international numbers are tried
/// first, then [`LIKELY_COUNTRIES`], and the one under which most local numbers are valid
/// wins (the first tried on a tie).
pub fn score_column(
    column: &str,
    index: usize,
    values: &[&str],
    given: Option<&str>,
) -> PhoneScore {
    let mut by_country: BTreeMap<String, usize> = BTreeMap::new();
    let mut first_seen: Vec<String> = Vec::new();
    let mut international = 0;
    let mut locals: Vec<&str> = Vec::new();
    let mut local = 0;
    for &v in values {
        if is_international(v) {
            if dialable(v)
                && let Ok(p) = crate::patients::phone::normalise(v, None, &[])
            {
                international += 1;
                if let Some(c) = p.country {
                    if !by_country.contains_key(&c) {
                        first_seen.push(c.clone());
                    }
                    *by_country.entry(c).or_default() += 1;
                }
            }
        } else {
            local += 1;
            if dialable(v) {
                locals.push(v);
            }
        }
    }
    let mut seen: Vec<(String, usize)> = first_seen
        .iter()
        .map(|c| (c.clone(), by_country[c]))
        .collect();
    seen.sort_by_key(|x| std::cmp::Reverse(x.1)); // stable: first seen wins a tie
    let candidates: Vec<String> = if let Some(g) = given {
        vec![g.to_owned()]
    } else {
        let mut list: Vec<String> = seen.iter().map(|(c, _)| c.clone()).collect();
        for c in LIKELY_COUNTRIES {
            if !list.iter().any(|x| x == c.code) {
                list.push(c.code.to_owned());
            }
        }
        list
    };
    let mut tally: Vec<(String, usize)> = Vec::new();
    if !locals.is_empty() {
        for code in &candidates {
            let Some(id) = crate::patients::phone::country(code) else {
                continue;
            };
            let n = locals
                .iter()
                .filter(|v| crate::patients::phone::normalise(v, Some(id), &[]).is_ok())
                .count();
            tally.push((code.clone(), n));
        }
    }
    // The best country for local numbers; with none, the most common country code.
    let mut ranked = tally.clone();
    ranked.sort_by_key(|x| std::cmp::Reverse(x.1)); // stable: the first tried wins a tie
    let (country, local_valid, runner_up) = match ranked.as_slice() {
        [(best, n), rest @ ..] if *n > 0 => (
            Some(best.clone()),
            *n,
            rest.first().filter(|(_, m)| *m > 0).cloned(),
        ),
        _ => (
            given
                .map(ToOwned::to_owned)
                .or_else(|| seen.first().map(|(c, _)| c.clone())),
            0,
            None,
        ),
    };
    PhoneScore {
        column: column.to_owned(),
        index,
        sampled: values.len(),
        valid: international + local_valid,
        country: CountryGuess {
            country,
            international,
            by_country: seen,
            local,
            local_valid,
            runner_up,
            given: given.is_some(),
        },
    }
}

/// `` `mobile_no` (96% of 50 sampled values are valid numbers) ``
pub fn describe_phone(score: &PhoneScore) -> String {
    format!(
        "`{}` ({}% of {} sampled value{} valid phone number{})",
        score.column,
        score.percent(),
        score.sampled,
        if score.sampled == 1 { " is a" } else { "s are" },
        if score.sampled == 1 { "" } else { "s" },
    )
}

/// The country guessed and the evidence, in words.
pub fn describe_country(g: &CountryGuess) -> String {
    let codes = || {
        g.by_country
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(code) = g.country.as_deref() else {
        return if g.local > 0 {
            format!(
                "none: no country makes the {} number{} without a country code valid",
                g.local,
                if g.local == 1 { "" } else { "s" }
            )
        } else {
            "none: no valid number".to_owned()
        };
    };
    let label = country_label(code);
    let mut text = if g.given {
        format!("{label}, as given")
    } else {
        label
    };
    if g.local > 0 {
        let _ = write!(
            text,
            ": {} of {} number{} without a country code {} valid there",
            g.local_valid,
            g.local,
            if g.local == 1 { "" } else { "s" },
            if g.local_valid == 1 { "is" } else { "are" },
        );
        if let Some((other, n)) = &g.runner_up {
            let _ = write!(text, " (next best: {other}, {n})");
        }
        if g.international > 0 {
            let _ = write!(
                text,
                "; {} {} a country code ({})",
                g.international,
                if g.international == 1 {
                    "carries"
                } else {
                    "carry"
                },
                codes()
            );
        }
    } else if g.international > 0 {
        let _ = write!(
            text,
            ": every valid number carries a country code ({})",
            codes()
        );
    }
    text
}

/// Whether a header reads like a phone column (only breaks ties between columns whose values
/// score the same).
fn phone_like_header(header: &str) -> bool {
    let h = header.to_ascii_lowercase();
    [
        "phone", "tel", "mobile", "msisdn", "cell", "gsm", "contact", "whatsapp",
    ]
    .iter()
    .any(|w| h.contains(w))
}

/// Every column's score, best first.
pub fn rank_phone_columns(sample: &Sample, given_country: Option<&str>) -> Vec<PhoneScore> {
    let mut scores: Vec<PhoneScore> = sample
        .header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let values = sample.values(i);
            if values.iter().any(|v| dialable(v)) {
                score_column(h, i, &values, given_country)
            } else {
                PhoneScore {
                    column: h.clone(),
                    index: i,
                    sampled: values.len(),
                    valid: 0,
                    country: CountryGuess::default(),
                }
            }
        })
        .collect();
    scores.sort_by(|a, b| {
        // A higher share, then more valid values, then a phone-like header, then file order.
        let share = |s: &PhoneScore| (s.valid * 10_000).checked_div(s.sampled).unwrap_or(0);
        share(b)
            .cmp(&share(a))
            .then(b.valid.cmp(&a.valid))
            .then(phone_like_header(&b.column).cmp(&phone_like_header(&a.column)))
            .then(a.index.cmp(&b.index))
    });
    scores
}

/// The phone column: the best-ranked column, if enough of its values are valid numbers.
/// `Err` holds every column's score, for the message that says what was tried.
pub fn guess_phone_column(
    sample: &Sample,
    given_country: Option<&str>,
) -> Result<PhoneScore, Vec<PhoneScore>> {
    // A column without a name cannot be `phone_column` (issue 19: a title row taken as the
    // header left the numbers under an empty name, and `phone_column: ""` was written).
    let ranked: Vec<PhoneScore> = rank_phone_columns(sample, given_country)
        .into_iter()
        .filter(|s| !s.column.trim().is_empty())
        .collect();
    match ranked.first() {
        Some(best) if best.share_ok() => Ok(best.clone()),
        _ => Err(ranked),
    }
}

/// Other columns that also look like phone numbers (a second number, a next of kin's).
pub fn other_phone_columns(sample: &Sample, phone: &PhoneScore) -> Vec<usize> {
    rank_phone_columns(sample, None)
        .into_iter()
        .filter(|s| s.index != phone.index && s.share_ok())
        .map(|s| s.index)
        .collect()
}

/// What a column is, for proposing its template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// A person's name: `{{title x}}`.
    Name,
    /// A date: `{{date x '%A %-d %B'}}`.
    Date,
    /// An identifier (patient id, folder number): a tag on robocalls.
    Id,
    /// Anything else: `{{x}}`.
    Text,
}

/// Words that make a `…name` column the name of a place or a thing, not a person.
const NOT_A_PERSON: [&str; 16] = [
    "clinic", "facility", "hospital", "pharmacy", "centre", "center", "ward", "lga", "state",
    "village", "town", "street", "drug", "medicine", "user", "file",
];

/// Words that make a column an identifier.
const ID_WORDS: [&str; 7] = ["id", "mrn", "uuid", "identifier", "no", "ref", "number"];

/// Guesses what a column is from its header and sampled values.
pub fn column_kind(header: &str, values: &[&str]) -> ColumnKind {
    let words: Vec<String> = snake_case(header)
        .split('_')
        .map(ToOwned::to_owned)
        .collect();
    let has = |w: &str| words.iter().any(|x| x == w);
    if !values.is_empty() {
        let dates = values
            .iter()
            .filter(|v| crate::render::template::parse_date(v).is_some())
            .count();
        if dates * 5 >= values.len() * 4 {
            return ColumnKind::Date;
        }
    }
    let name_word = words.iter().any(|w| {
        matches!(
            w.as_str(),
            "name"
                | "names"
                | "surname"
                | "firstname"
                | "lastname"
                | "fullname"
                | "forename"
                | "forenames"
                | "givenname"
                | "familyname"
        )
    });
    let no_digits = values
        .iter()
        .filter(|v| !v.chars().any(|c| c.is_ascii_digit()))
        .count()
        * 5
        >= values.len() * 4;
    if name_word && no_digits && !NOT_A_PERSON.iter().any(|w| has(w)) {
        return ColumnKind::Name;
    }
    if ID_WORDS.iter().any(|w| has(w)) {
        return ColumnKind::Id;
    }
    ColumnKind::Text
}

/// `First Name` → `first_name`, `patientId` → `patient_id`, `DOB` → `dob`. The result starts
/// with a letter (`2nd dose` → `col_2nd_dose`) and is never empty (`column`).
pub fn snake_case(header: &str) -> String {
    let mut out = String::new();
    let mut prev: Option<char> = None;
    for ch in header.chars() {
        if ch.is_alphanumeric() {
            let boundary = prev.is_some_and(|p| {
                !p.is_alphanumeric() || (ch.is_uppercase() && (p.is_lowercase() || p.is_numeric()))
            });
            if boundary && !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(ch.to_lowercase());
        }
        prev = Some(ch);
    }
    let out: String = out
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let out = out.trim_matches('_').to_owned();
    if out.is_empty() {
        "column".to_owned()
    } else if out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("col_{out}")
    } else {
        out
    }
}

/// A campaign name from a file name: `Refill Followup (Kano).xlsx` → `refill-followup-kano`.
pub fn campaign_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut name = String::new();
    for ch in stem.chars() {
        if ch.is_ascii_alphanumeric() {
            name.push(ch.to_ascii_lowercase());
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
    }
    let name: String = name.trim_end_matches('-').chars().take(64).collect();
    let name = name.trim_end_matches('-');
    if name.is_empty() {
        "campaign".to_owned()
    } else {
        name.to_owned()
    }
}

/// Whether `name` is a valid campaign name (what the schema requires).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// How a template names a column: bare when handlebars reads it as a plain column, in
/// brackets otherwise (`[first name]`, `[date]`). `None` when a template cannot name it (the
/// validator would read another column).
pub fn column_ref(column: &str) -> Option<String> {
    let plain = column.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && column
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !column.contains('-')
        && !reserved(column);
    let reference = if plain {
        column.to_owned()
    } else {
        format!("[{column}]")
    };
    // Check with the validator's own reading of templates.
    let refs = crate::render::template::references(&format!("{{{{{reference}}}}}")).ok()?;
    let ok = refs.unknown_helpers.is_empty()
        && refs.unsupported.is_empty()
        && refs.columns.len() == 1
        && refs.columns.contains(column);
    ok.then_some(reference)
}

fn reserved(column: &str) -> bool {
    crate::render::template::HELPERS.contains(&column)
        || [
            "if",
            "unless",
            "each",
            "with",
            "lookup",
            "log",
            "eq",
            "ne",
            "gt",
            "gte",
            "lt",
            "lte",
            "and",
            "or",
            "not",
            "len",
            "this",
            "else",
            "true",
            "false",
            "null",
            "undefined",
        ]
        .contains(&column)
}

/// The template proposed for a column of a kind.
pub fn template_for(reference: &str, kind: ColumnKind) -> String {
    match kind {
        ColumnKind::Name => format!("{{{{title {reference}}}}}"),
        ColumnKind::Date => format!("{{{{date {reference} '%A %-d %B'}}}}"),
        ColumnKind::Id | ColumnKind::Text => format!("{{{{{reference}}}}}"),
    }
}

/// Where a column goes in the starter campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// A message variable.
    Variable,
    /// A robocall tag (identifiers: they find a call again in the dashboard).
    Tag,
    /// Left out, with the reason (written as a comment).
    Left(String),
}

/// What the starter campaign does with one column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub column: String,
    /// The variable or tag name (snake_case, unique).
    pub key: String,
    pub kind: ColumnKind,
    pub template: String,
    pub role: Role,
    /// Sampled rows with this column empty (such patients are skipped without a default).
    pub empty: usize,
}

/// How the date columns' values must be read (`dates:` in the starter), when they need it:
/// a day and month that could be swapped need `order`, two-digit years need
/// `two_digit_years`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DatesGuess {
    /// The order to write, and why it was chosen; `None` when no value needs one.
    pub order: Option<(crate::campaign::dates::DateOrder, String)>,
    /// Some values have a two-digit year.
    pub two_digit_years: bool,
}

/// Reads the sampled values of the date columns for [`DatesGuess`]. The order is the one
/// values with a day above 12 show; without such values, the country's (day first except in
/// the US).
pub fn dates_guess(sample: &Sample, proposals: &[Proposal], country: Option<&str>) -> DatesGuess {
    use crate::campaign::dates::DateOrder;
    let mut ambiguous = false;
    let mut two_digit_years = false;
    let mut shown: Vec<(DateOrder, &str)> = Vec::new();
    for p in proposals.iter().filter(|p| p.kind == ColumnKind::Date) {
        let Some(i) = sample.header.iter().position(|h| *h == p.column) else {
            continue;
        };
        for v in sample.values(i) {
            let Some(shape) = crate::render::dates::shape(v) else {
                continue;
            };
            ambiguous |= shape.ambiguous;
            two_digit_years |= shape.two_digit_year;
            if let Some(order) = shape.shows {
                shown.push((order, p.column.as_str()));
            }
        }
    }
    let order = ambiguous.then(|| match shown.first() {
        Some((order, column)) if shown.iter().all(|(o, _)| o == order) => {
            let first = if *order == DateOrder::Mdy {
                "month"
            } else {
                "day"
            };
            (
                *order,
                format!("{first} first, as a date in `{column}` shows"),
            )
        }
        _ if country == Some("US") => (DateOrder::Mdy, "month first, as in the US".to_owned()),
        _ => (
            DateOrder::Dmy,
            match country {
                Some(c) => format!(
                    "day first, as in {}",
                    crate::patients::countries::country_info(c).map_or(c, |i| i.name)
                ),
                None => "day first, as in most countries".to_owned(),
            },
        ),
    });
    DatesGuess {
        order,
        two_digit_years,
    }
}

/// Proposes a variable (or a tag, on robocalls, for identifiers) for every column but the
/// phone column. `other_phones` are columns that also hold phone numbers: left out.
pub fn propose(
    sample: &Sample,
    phone_index: usize,
    other_phones: &[usize],
    tags_allowed: bool,
) -> Vec<Proposal> {
    // Names the request already uses beside the variables and tags.
    let mut used: Vec<String> = vec![
        "phone_number".to_owned(),
        "user_tag_identifiers".to_owned(),
        crate::plan::KEY_TAG.to_owned(),
    ];
    let mut out = Vec::new();
    for (i, column) in sample.header.iter().enumerate() {
        if i == phone_index {
            continue;
        }
        let values = sample.values(i);
        let kind = column_kind(column, &values);
        let mut key = snake_case(column);
        if used.contains(&key) {
            let mut n = 2;
            while used.contains(&format!("{key}_{n}")) {
                n += 1;
            }
            key = format!("{key}_{n}");
        }
        used.push(key.clone());
        let reference = column_ref(column);
        let template = template_for(reference.as_deref().unwrap_or(column), kind);
        let role = if column.trim().is_empty() {
            Role::Left("the column has no name".to_owned())
        } else if sample.header[..i].contains(column) {
            Role::Left("a second column with the same name".to_owned())
        } else if reference.is_none() {
            Role::Left(
                "a template cannot name this column (a `.`, `/` or `]` in its name): rename it in the file"
                    .to_owned(),
            )
        } else if other_phones.contains(&i) {
            Role::Left("it holds phone numbers too; only `phone_column` is called".to_owned())
        } else if values.is_empty() {
            Role::Left("empty in every sampled row".to_owned())
        } else if kind == ColumnKind::Id && tags_allowed {
            Role::Tag
        } else {
            Role::Variable
        };
        out.push(Proposal {
            column: column.clone(),
            key,
            kind,
            template,
            role,
            empty: sample.empty(i),
        });
    }
    out
}

/// The format of a file whose name does not tell: JSON when it starts with `[`, NDJSON with
/// `{`, CSV otherwise.
pub fn sniff_format(path: &Path) -> std::io::Result<FileFormat> {
    let file = crate::load::input_file::open(path)?;
    let mut reader = BufReader::new(file);
    let mut buf = Vec::new();
    reader.read_until(b'\n', &mut buf)?;
    let text = String::from_utf8_lossy(&buf);
    let first = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .chars()
        .next();
    Ok(match first {
        Some('[') => FileFormat::Json,
        Some('{') => FileFormat::Ndjson,
        _ => FileFormat::Csv,
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A sample of `rows` under `header` (also for `language.rs`'s tests).
    pub(in crate::init) fn sample(header: &[&str], rows: &[&[&str]]) -> Sample {
        Sample {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: rows
                .iter()
                .map(|r| r.iter().map(|c| (*c).to_owned()).collect())
                .collect(),
            total_rows: rows.len() as u64,
            ..Sample::default()
        }
    }

    #[test]
    fn finds_the_phone_column_by_its_values_not_its_name() {
        let s = sample(
            &["id", "Contact Tel", "phone_model", "dob"],
            &[
                &["1001", "0803 123 4567", "Tecno", "2019-04-01"],
                &["1002", "08051234567", "Itel", "2020-01-13"],
                &["1003", "+2347065550192", "Nokia", "03/12/2018"],
                &["1004", "not known", "Tecno", "2021-05-30"],
            ],
        );
        let best = guess_phone_column(&s, None).unwrap();
        assert_eq!(best.column, "Contact Tel");
        assert_eq!((best.valid, best.sampled, best.percent()), (3, 4, 75));
        assert_eq!(best.country.country.as_deref(), Some("NG"));
    }

    #[test]
    fn dates_and_short_ids_are_not_phone_numbers() {
        let s = sample(
            &["visit", "code"],
            &[&["2026-12-03", "12345"], &["2026-12-04", "12346"]],
        );
        let err = guess_phone_column(&s, None).unwrap_err();
        assert_eq!(err.len(), 2);
        assert!(err.iter().all(|s| s.valid == 0));
    }

    #[test]
    fn local_numbers_give_the_country_under_which_most_are_valid() {
        let ng = [
            "08031234567",
            "0805 123 4567",
            "07065550192",
            "0809 876 5432",
        ];
        let g = score_column("phone", 0, &ng, None).country;
        assert_eq!(g.country.as_deref(), Some("NG"));
        assert_eq!((g.local, g.local_valid, g.international), (4, 4, 0));

        let gh = ["0241234567", "0201234567", "0551234567"];
        let g = score_column("phone", 0, &gh, None).country;
        assert_eq!(g.country.as_deref(), Some("GH"));
        assert_eq!(g.local_valid, 3);

        let ke = ["0712345678", "0722123456", "0733123456"];
        assert_eq!(
            score_column("phone", 0, &ke, None)
                .country
                .country
                .as_deref(),
            Some("KE")
        );
    }

    #[test]
    fn international_numbers_give_their_country() {
        let v = ["+233241234567", "+233201234567", "+2348031234567"];
        let s = score_column("phone", 0, &v, None);
        assert_eq!(s.valid, 3);
        assert_eq!(s.country.country.as_deref(), Some("GH"));
        assert_eq!(
            s.country.by_country,
            [("GH".to_owned(), 2), ("NG".to_owned(), 1)]
        );
        // Local numbers are tried with the countries seen first.
        let v = ["+233241234567", "0241234567"];
        let s = score_column("phone", 0, &v, None);
        assert_eq!((s.valid, s.country.country.as_deref()), (2, Some("GH")));
    }

    #[test]
    fn a_given_country_is_the_only_one_tried() {
        let v = ["0241234567", "08031234567"];
        let s = score_column("phone", 0, &v, Some("GH"));
        assert_eq!((s.valid, s.country.country.as_deref()), (1, Some("GH")));
        assert!(s.country.given);
    }

    #[test]
    fn kinds_of_columns() {
        assert_eq!(
            column_kind("first_name", &["adaeze", "Tolu"]),
            ColumnKind::Name
        );
        assert_eq!(column_kind("Child Name", &["Chidi"]), ColumnKind::Name);
        assert_eq!(column_kind("clinic_name", &["Yaba PHC"]), ColumnKind::Text);
        assert_eq!(
            column_kind("appointment", &["2026-12-03", "03/12/2026"]),
            ColumnKind::Date
        );
        assert_eq!(column_kind("patientId", &["LG-0001"]), ColumnKind::Id);
        assert_eq!(column_kind("Folder No", &["A12"]), ColumnKind::Id);
        assert_eq!(column_kind("clinic", &["Yaba PHC"]), ColumnKind::Text);
    }

    #[test]
    fn every_likely_country_exists_and_has_a_time_zone() {
        for c in LIKELY_COUNTRIES {
            assert!(
                crate::patients::phone::country(c.code).is_some(),
                "{}",
                c.code
            );
            assert!(
                jiff::tz::TimeZone::get(c.timezone).is_ok(),
                "{}",
                c.timezone
            );
        }
    }

    #[test]
    fn proposals_avoid_the_names_the_request_uses() {
        let s = sample(
            &["tel", "Phone Number", "phone_number", "outreach_key"],
            &[&["08031234567", "x", "y", "z"]],
        );
        let keys: Vec<String> = propose(&s, 0, &[], true)
            .into_iter()
            .map(|p| p.key)
            .collect();
        assert_eq!(keys, ["phone_number_2", "phone_number_3", "outreach_key_2"]);
    }

    #[test]
    fn names() {
        assert_eq!(snake_case("First Name"), "first_name");
        assert_eq!(snake_case("patientId"), "patient_id");
        assert_eq!(snake_case("DOB"), "dob");
        assert_eq!(snake_case("Date of Birth (dd/mm)"), "date_of_birth_dd_mm");
        assert_eq!(snake_case("2nd dose"), "col_2nd_dose");
        assert_eq!(snake_case("—"), "column");
        assert_eq!(
            campaign_name(Path::new("x/Refill Followup (Kano).xlsx")),
            "refill-followup-kano"
        );
        assert_eq!(
            campaign_name(Path::new("lagos-measles.csv")),
            "lagos-measles"
        );
        assert_eq!(campaign_name(Path::new("___.csv")), "campaign");
        assert!(valid_name("lagos-measles"));
        assert!(!valid_name("Lagos"));
    }

    #[test]
    fn column_references() {
        assert_eq!(column_ref("first_name").as_deref(), Some("first_name"));
        assert_eq!(column_ref("First Name").as_deref(), Some("[First Name]"));
        assert_eq!(column_ref("date").as_deref(), Some("[date]"));
        assert_eq!(column_ref("child-name").as_deref(), Some("[child-name]"));
        assert_eq!(column_ref("Tel."), None, "a dot starts a path");
        assert_eq!(
            template_for("appointment_date", ColumnKind::Date),
            "{{date appointment_date '%A %-d %B'}}"
        );
        assert_eq!(
            template_for("[First Name]", ColumnKind::Name),
            "{{title [First Name]}}"
        );
    }

    #[test]
    fn sniffs_delimiters() {
        assert_eq!(delimiter_of(b"a;b;c\n1;2;3\n4;5;6\n"), b';');
        assert_eq!(delimiter_of(b"a\tb\n1\t2\n"), b'\t');
        assert_eq!(delimiter_of(b"a,b,c\n1,\"2;x\",3\n"), b',');
        assert_eq!(delimiter_of(b"name,note\n\"Ada\",\"a; b; c\"\n"), b',');
        assert_eq!(delimiter_of(b"phone\n0803\n"), b',');
        // Regression (issue 19): a register's title above a tab-separated header.
        assert_eq!(
            delimiter_of(b"Gwale PHC - ANC Register, January 2027\nname\tphone\nAda\t0803\nBo\t0805\nCy\t0806\n"),
            b'\t'
        );
    }
}
