//! Phone hygiene: raw text from a patient list → an E.164 number the voicebot can call, or
//! the reason it cannot be called.

use phonenumber::Type;
use phonenumber::country::Id;
use phonenumber::metadata::{DATABASE, Descriptor, Metadata};

/// Why a number is not called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneProblem {
    /// The cell is empty.
    Missing,
    /// Not a phone number, or not a valid one for its country.
    Invalid,
    /// A character that is neither a digit (of any script), a separator nor an invisible
    /// formatting mark, at a 1-based position of the trimmed cell.
    BadChar { ch: char, position: usize },
    /// A local number with no `default_country` to complete it.
    NoCountry,
    /// A valid number that is not a mobile or fixed line (toll-free, premium, …).
    NotALine(&'static str),
    /// From a country the campaign does not allow.
    CountryNotAllowed(String),
}

impl PhoneProblem {
    /// What happened, in words.
    pub fn describe(&self) -> String {
        match self {
            PhoneProblem::Missing => "no phone number".to_owned(),
            PhoneProblem::Invalid => "not a valid phone number".to_owned(),
            PhoneProblem::BadChar { ch, position } => format!(
                "not a phone number: {} at position {position}",
                char_name(*ch)
            ),
            PhoneProblem::NoCountry => {
                "a local number, and the source has no default_country to complete it".to_owned()
            }
            PhoneProblem::NotALine(kind) => format!("a {kind} number, not a mobile or fixed line"),
            PhoneProblem::CountryNotAllowed(c) => {
                format!("a number from {c}, which the campaign does not allow")
            }
        }
    }
}

/// A normalised phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    /// E.164: `+` and up to 15 digits.
    pub e164: String,
    /// The two-letter country, when the number maps to one.
    pub country: Option<String>,
}

impl Phone {
    /// The number as an integer (E.164 has at most 15 digits), for compact dedupe sets.
    pub fn as_u64(&self) -> u64 {
        key_of(&self.e164)
    }
}

/// A number already in E.164 (a plan's, the ledger's) as opt-out sets key it: its digits as
/// an integer (0 for text that is not one).
pub fn key_of(e164: &str) -> u64 {
    e164.get(1..)
        .and_then(|digits| digits.parse::<u64>().ok())
        .unwrap_or(0)
}

/// Normalises `raw` to E.164. `default_country` completes local numbers; `allowed` (empty:
/// any) restricts countries.
pub fn normalise(
    raw: &str,
    default_country: Option<Id>,
    allowed: &[Id],
) -> Result<Phone, PhoneProblem> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(PhoneProblem::Missing);
    }
    // Accept spaces, dashes, dots and brackets; anything else that is not a digit (letters,
    // a second `+`) makes the number invalid rather than silently dropped.
    // Digits of any script are digits (numbers pasted from other systems: fullwidth,
    // Arabic-Indic), and invisible formatting marks (a zero-width space, a direction mark)
    // are dropped, so that the same person is one number everywhere.
    let mut cleaned = String::with_capacity(trimmed.len());
    for (i, c) in trimmed.chars().enumerate() {
        match c {
            '0'..='9' => cleaned.push(c),
            '+' if cleaned.is_empty() => cleaned.push(c),
            ' ' | '-' | '.' | '(' | ')' | '\u{a0}' | '/' => {}
            c if c.is_ascii() => {
                return Err(PhoneProblem::BadChar {
                    ch: c,
                    position: i + 1,
                });
            }
            c if is_invisible(c) || c.is_whitespace() || is_dash(c) => {}
            c => match digit_of(c) {
                Some(d) => cleaned.push(d),
                None => {
                    return Err(PhoneProblem::BadChar {
                        ch: c,
                        position: i + 1,
                    });
                }
            },
        }
    }
    if cleaned.len() < 4 {
        return Err(PhoneProblem::Invalid);
    }
    let international = cleaned.starts_with('+') || cleaned.starts_with("00");
    let cleaned = match cleaned.strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None => cleaned,
    };
    if !international && default_country.is_none() {
        return Err(PhoneProblem::NoCountry);
    }
    // An international number is parsed with no country, and phonenumber then searches the
    // regions of its code (`source_for`) on its locked regexes; for a code regions share
    // (+1, +44, …) that search is this thread's, and the region it finds is named instead.
    let country = if international {
        TYPES.with(|t| t.borrow_mut().parse_region(&cleaned[1..]))
    } else {
        default_country
    };
    // The parse runs on this thread's regexes (`phone_parse`); what it leaves, and the rare
    // questions below its searches cannot answer, go to phonenumber's own (locked) parser.
    let (code, national) = if let Some(parsed) = super::phone_parse::parse(country, &cleaned) {
        parsed.map_err(|()| PhoneProblem::Invalid)?
    } else {
        let n = phonenumber::parse(country, &cleaned).map_err(|_| PhoneProblem::Invalid)?;
        (n.code().value(), *n.national())
    };
    let crate_parse = || phonenumber::parse(country, &cleaned).map_err(|_| PhoneProblem::Invalid);
    // Validity is "the number matches a type of its region's metadata"; `number_type` does
    // that same search (a dozen regexes) on the national number without its leading zeros,
    // so when it has none one search answers both questions. With leading zeros (Italy) the
    // two differ and both are asked. Both run on this thread's regexes (`Types::search`);
    // phonenumber's own, behind its process-wide lock, only answer what those cannot.
    if national.zeros() > 0 {
        let with_zeros = national.to_string();
        let valid = match TYPES.with(|t| t.borrow_mut().search(code, &with_zeros)) {
            Some((kind, _)) => kind != Type::Unknown,
            None => crate_parse()?.is_valid_with(&DATABASE),
        };
        if !valid {
            return Err(PhoneProblem::Invalid);
        }
    }
    let found = TYPES.with(|t| t.borrow_mut().search(code, &national.value().to_string()));
    let (kind, country) = if let Some(found) = found {
        found
    } else {
        let number = crate_parse()?;
        (number.number_type(&DATABASE), number.country().id())
    };
    match kind {
        Type::Mobile | Type::FixedLine | Type::FixedLineOrMobile => {}
        Type::TollFree => return Err(PhoneProblem::NotALine("toll-free")),
        Type::PremiumRate => return Err(PhoneProblem::NotALine("premium-rate")),
        Type::SharedCost => return Err(PhoneProblem::NotALine("shared-cost")),
        Type::Voip => return Err(PhoneProblem::NotALine("VoIP")),
        Type::PersonalNumber => return Err(PhoneProblem::NotALine("personal")),
        Type::Pager => return Err(PhoneProblem::NotALine("pager")),
        Type::Uan => return Err(PhoneProblem::NotALine("UAN")),
        Type::Voicemail => return Err(PhoneProblem::NotALine("voicemail")),
        _ => return Err(PhoneProblem::Invalid),
    }
    if !allowed.is_empty() && !country.is_some_and(|c| allowed.contains(&c)) {
        let name = country.map_or_else(|| format!("+{code}"), id_str);
        return Err(PhoneProblem::CountryNotAllowed(name));
    }
    // E.164 is `+`, the country code and the national number (leading zeros included): what
    // `number.format().mode(Mode::E164)` writes, without the formatter's search for a
    // national format pattern (regexes), which E.164 does not use.
    Ok(Phone {
        e164: format!("+{code}{national}"),
        country: country.map(id_str),
    })
}

/// One descriptor's pattern and lengths, compiled for this thread.
pub(super) struct Desc {
    re: regex::Regex,
    lengths: Vec<u16>,
}

impl Desc {
    pub(super) fn new(d: &Descriptor) -> Option<Desc> {
        Some(Desc {
            re: anchored(d.national_number().as_str())?,
            lengths: d.possible_length().to_vec(),
        })
    }

    pub(super) fn is_match(&self, value: &str) -> bool {
        let len = u16::try_from(value.len()).unwrap_or(u16::MAX);
        (self.lengths.is_empty() || self.lengths.contains(&len)) && self.re.is_match(value)
    }
}

/// A pattern phonenumber matches with `find`, asking for a match at 0: compiled anchored.
pub(super) fn anchored(pattern: &str) -> Option<regex::Regex> {
    // Whitespace in the metadata's patterns is insignificant; the line break keeps the
    // group's end out of a trailing comment.
    // The text matched is a national number's ASCII digits, so `\d` need not be Unicode's
    // (hundreds of digits, which make each automaton larger and slower to build).
    regex::RegexBuilder::new(&format!("^(?:{pattern}\n)"))
        .ignore_whitespace(true)
        .unicode(false)
        .build()
        .ok()
}

/// A region's number types, compiled for this thread.
struct RegionTypes {
    general: Desc,
    /// In phonenumber's order of precedence.
    special: Vec<(Type, Desc)>,
    fixed_line: Option<Desc>,
    mobile: Option<Desc>,
    /// Fixed-line and mobile numbers share one pattern.
    same_pattern: bool,
}

/// A region that shares its country code, as phonenumber's `source_for` tries it.
struct SharedRegion {
    meta: &'static Metadata,
    /// The national numbers that belong to it (`None`: those of a type of its own).
    leading: Option<regex::Regex>,
    /// Its international dialling prefix (`011`, `00`), which phonenumber's parser strips
    /// after a `+` when it is given the region.
    idd: Option<regex::Regex>,
    /// Its types, compiled the first time a number is searched in them (+1 has 25 regions;
    /// a list seldom holds numbers of more than a few).
    types: std::cell::OnceCell<Option<RegionTypes>>,
    id: Id,
}

impl SharedRegion {
    fn types(&self) -> Option<&RegionTypes> {
        self.types.get_or_init(|| compile(self.meta)).as_ref()
    }
}

/// The regions of a country code, compiled for this thread.
enum CodeRegions {
    /// A country code of one region: its types, and its country.
    One(RegionTypes, Option<Id>),
    /// A code that regions share (+1, +44, +7, +61, …), in the metadata's order.
    Shared(Vec<SharedRegion>),
}

/// phonenumber's search for a number's region (`validator::source_for`) and type
/// (`validator::number_type`), with regexes compiled for this thread: phonenumber keeps every
/// regex behind one process-wide mutex, on which plan's worker threads would queue.
#[derive(Default)]
struct Types {
    /// By country code (`None`: not searched here, phonenumber answers: a non-geographic
    /// code, one the metadata does not have, or a pattern that does not compile here).
    codes: std::collections::HashMap<u16, Option<CodeRegions>>,
}

impl Types {
    /// The type of national number `national` (without leading zeros for its type, with
    /// them for its validity, as phonenumber asks) under country code `code`, and the region's
    /// country; `None` when phonenumber's own search must answer.
    fn search(&mut self, code: u16, national: &str) -> Option<(Type, Option<Id>)> {
        let regions = self
            .codes
            .entry(code)
            .or_insert_with(|| regions_of(code))
            .as_ref()?;
        Some(match regions {
            CodeRegions::One(types, id) => (types.number_type(national), *id),
            CodeRegions::Shared(regions) => match source_for(regions, national).ok()? {
                Some((region, kind)) => (kind, Some(region.id)),
                None => (Type::Unknown, None),
            },
        })
    }

    /// The region phonenumber's parser reads `digits` (an international number after its
    /// `+`) in when it is given none, if the code is one regions share and naming the region
    /// to the parser reads it the same way; `None` otherwise (the parser is given no region).
    fn parse_region(&mut self, digits: &str) -> Option<Id> {
        // The parser's own steps: a code never starts with 0; the code is the first one to
        // three digits the metadata knows (codes are prefix-free); the rest, without its
        // leading zeros, is what `source_for` is asked about.
        if digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (code, len) = (1..=3.min(digits.len())).find_map(|len| {
            let code = digits[..len].parse::<u16>().ok()?;
            DATABASE.by_code(&code).map(|_| (code, len))
        })?;
        let regions = self
            .codes
            .entry(code)
            .or_insert_with(|| regions_of(code))
            .as_ref()?;
        let CodeRegions::Shared(regions) = regions else {
            return None;
        };
        let (region, _) = source_for(regions, digits[len..].trim_start_matches('0')).ok()??;
        // Given a region, the parser also strips its dialling prefix from the start of the
        // digits; where that would change them, it is given none.
        match &region.idd {
            Some(idd) if idd.is_match(digits) => None,
            _ => Some(region.id),
        }
    }
}

/// phonenumber's `validator::source_for` over the regions of a shared code: the first region
/// whose leading digits start the number, or (for a region without them) of whose types the
/// number is one, with its type (`None` when there is none).
fn source_for<'r>(
    regions: &'r [SharedRegion],
    national: &str,
) -> Result<Option<(&'r SharedRegion, Type)>, Uncompiled> {
    for region in regions {
        let kind = match &region.leading {
            Some(leading) if leading.is_match(national) => {
                region.types().ok_or(Uncompiled)?.number_type(national)
            }
            Some(_) => continue,
            None => match region.types().ok_or(Uncompiled)?.number_type(national) {
                Type::Unknown => continue,
                kind => kind,
            },
        };
        return Ok(Some((region, kind)));
    }
    Ok(None)
}

/// A region's pattern does not compile here: phonenumber's own search answers.
struct Uncompiled;

fn regions_of(code: u16) -> Option<CodeRegions> {
    let db: &'static phonenumber::metadata::Database = &DATABASE;
    let regions = db.region(&code)?;
    match regions.as_slice() {
        // Non-geographic numbers (+800, +882, …) are left to phonenumber: rare in a list.
        [] | ["001"] => None,
        [one] => {
            let meta = db.by_id(*one)?;
            Some(CodeRegions::One(compile(meta)?, meta.id().parse().ok()))
        }
        shared => shared
            .iter()
            .map(|region| {
                let meta = db.by_id(*region)?;
                Some(SharedRegion {
                    meta,
                    leading: match meta.leading_digits() {
                        Some(l) => Some(anchored(l.as_str())?),
                        None => None,
                    },
                    idd: match meta.international_prefix() {
                        Some(p) => Some(anchored(p.as_str())?),
                        None => None,
                    },
                    types: std::cell::OnceCell::new(),
                    id: region.parse().ok()?,
                })
            })
            .collect::<Option<Vec<_>>>()
            .map(CodeRegions::Shared),
    }
}

fn compile(meta: &Metadata) -> Option<RegionTypes> {
    let d = meta.descriptors();
    let mut special = Vec::new();
    for (kind, desc) in [
        (Type::PremiumRate, d.premium_rate()),
        (Type::TollFree, d.toll_free()),
        (Type::SharedCost, d.shared_cost()),
        (Type::Voip, d.voip()),
        (Type::PersonalNumber, d.personal_number()),
        (Type::Pager, d.pager()),
        (Type::Uan, d.uan()),
        (Type::Voicemail, d.voicemail()),
    ] {
        if let Some(desc) = desc {
            special.push((kind, Desc::new(desc)?));
        }
    }
    let fixed_line = match d.fixed_line() {
        Some(f) => Some(Desc::new(f)?),
        None => None,
    };
    let mobile = match d.mobile() {
        Some(m) => Some(Desc::new(m)?),
        None => None,
    };
    Some(RegionTypes {
        general: Desc::new(d.general())?,
        special,
        same_pattern: d.fixed_line().map(|f| f.national_number().as_str())
            == d.mobile().map(|m| m.national_number().as_str()),
        fixed_line,
        mobile,
    })
}

impl RegionTypes {
    fn number_type(&self, value: &str) -> Type {
        if !self.general.is_match(value) {
            return Type::Unknown;
        }
        for (kind, desc) in &self.special {
            if desc.is_match(value) {
                return *kind;
            }
        }
        let mobile = |v: &str| self.mobile.as_ref().is_some_and(|m| m.is_match(v));
        if self.fixed_line.as_ref().is_some_and(|f| f.is_match(value)) {
            return if self.same_pattern || mobile(value) {
                Type::FixedLineOrMobile
            } else {
                Type::FixedLine
            };
        }
        if mobile(value) {
            return Type::Mobile;
        }
        Type::Unknown
    }
}

thread_local! {
    static TYPES: std::cell::RefCell<Types> = std::cell::RefCell::new(Types::default());
}

fn id_str(id: Id) -> String {
    id.as_ref().to_owned()
}

/// The text of a phone cell a spreadsheet stored as a number, whose leading `0` or `+` it
/// dropped, read as the source says (`numbers_as`): the whole number after a `+`, or a
/// national number with the country's trunk prefix (`0` in Nigeria) put back. The result is
/// normalised like any other cell, so digits that are not a number of the country are still
/// refused.
pub fn from_number_cell(
    digits: &str,
    how: crate::campaign::NumbersAs,
    country: Option<&str>,
) -> String {
    match how {
        crate::campaign::NumbersAs::International => format!("+{digits}"),
        crate::campaign::NumbersAs::National => {
            let prefix = country
                .and_then(|c| DATABASE.by_id(c))
                .and_then(Metadata::national_prefix)
                .unwrap_or("");
            format!("{prefix}{digits}")
        }
    }
}

/// Parses a two-letter country code.
pub fn country(code: &str) -> Option<Id> {
    code.parse().ok()
}

/// Invisible formatting marks that text pasted from other systems carries.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}' | '\u{feff}'
    )
}

/// Dashes other than `-` (en and em dashes, the minus sign, fullwidth hyphen).
fn is_dash(c: char) -> bool {
    matches!(
        c,
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{ff0d}' | '\u{fe58}' | '\u{fe63}'
    )
}

/// The ASCII digit a decimal digit of another script stands for.
fn digit_of(c: char) -> Option<char> {
    // The zero of each script whose digits run 0 to 9 in order (Unicode's Nd blocks in use).
    const ZEROS: [u32; 22] = [
        0x0660, 0x06f0, 0x07c0, 0x0966, 0x09e6, 0x0a66, 0x0ae6, 0x0b66, 0x0be6, 0x0c66, 0x0ce6,
        0x0d66, 0x0de6, 0x0e50, 0x0ed0, 0x0f20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0xff10,
    ];
    let code = u32::from(c);
    ZEROS
        .iter()
        .find(|&&zero| (zero..zero + 10).contains(&code))
        .and_then(|zero| char::from_digit(code - zero, 10))
}

/// A character as a message names it: `U+200B zero-width space`, `the letter O`.
fn char_name(c: char) -> String {
    let code = format!("U+{:04X}", u32::from(c));
    let name = match c {
        '\u{200b}' => Some("zero-width space"),
        '\u{200e}' => Some("left-to-right mark"),
        '\u{200f}' => Some("right-to-left mark"),
        '\u{feff}' => Some("byte order mark"),
        _ => None,
    };
    match name {
        Some(n) => format!("{code} {n}"),
        None if c.is_alphabetic() => format!("the letter `{c}` ({code})"),
        None if c.is_control() => format!("a control character ({code})"),
        None => format!("`{c}` ({code})"),
    }
}

/// Masks a number for logs and printed plans: `+2348031234567` → `+234*******4567`.
pub fn mask(number: &str) -> String {
    // Invisible marks and control characters are left out: a direction mark would reorder
    // the line it is printed on.
    let chars: Vec<char> = number
        .chars()
        .filter(|c| !is_invisible(*c) && !c.is_control())
        .collect();
    let keep_start = if chars.first() == Some(&'+') { 4 } else { 1 }.min(chars.len());
    let keep_end = 4.min(chars.len().saturating_sub(keep_start));
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < keep_start || i >= chars.len() - keep_end {
                *c
            } else {
                '*'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ng(raw: &str) -> Result<String, PhoneProblem> {
        normalise(raw, Some(Id::NG), &[]).map(|p| p.e164)
    }

    /// This thread's search answers as phonenumber's (the region, the type, the validity)
    /// for every example number of every region in the metadata, those of the country codes
    /// regions share (+1, +7, +44, +61, …) included, and for a few non-examples.
    #[test]
    fn the_thread_local_type_search_agrees_with_phonenumber() {
        let mut types = Types::default();
        let (mut checked, mut shared) = (0, 0);
        for meta in DATABASE.iter() {
            let code = meta.country_code();
            let is_shared = DATABASE.region(&code).is_some_and(|r| r.len() > 1);
            let d = meta.descriptors();
            let examples = [
                Some(d.general()),
                d.fixed_line(),
                d.mobile(),
                d.toll_free(),
                d.premium_rate(),
                d.shared_cost(),
                d.voip(),
                d.personal_number(),
                d.pager(),
                d.uan(),
                d.voicemail(),
            ];
            for example in examples
                .into_iter()
                .flatten()
                .filter_map(Descriptor::example)
            {
                for national in [
                    example.to_owned(),
                    format!("{example}9"),
                    example[1..].to_owned(),
                ] {
                    let Ok(number) = phonenumber::parse(None, format!("+{code}{national}")) else {
                        continue;
                    };
                    let value = number.national().value().to_string();
                    let Some((ours, id)) = types.search(code, &value) else {
                        // Only non-geographic codes are left to phonenumber.
                        assert_eq!(meta.id(), "001", "+{code} {value}");
                        continue;
                    };
                    let what = format!("{} +{code} {value}", meta.id());
                    assert_eq!(ours, number.number_type(&DATABASE), "{what}");
                    assert_eq!(id, number.country().id(), "{what}");
                    let with_zeros = number.national().to_string();
                    let valid = types
                        .search(code, &with_zeros)
                        .map(|(t, _)| t != Type::Unknown);
                    assert_eq!(valid, Some(number.is_valid_with(&DATABASE)), "{what}");
                    checked += 1;
                    if is_shared {
                        shared += 1;
                    }
                }
            }
        }
        assert!(checked > 1000, "only {checked} numbers checked");
        assert!(
            shared > 300,
            "only {shared} numbers of shared codes checked"
        );
    }

    /// phonenumber's parse of an international number with the region `parse_region` names
    /// for it, against its parse with none.
    fn same_parse(types: &mut Types, text: &str) -> Result<(), String> {
        let region = types.parse_region(&text[1..]);
        let named = phonenumber::parse(region, text);
        let none = phonenumber::parse(None, text);
        match (named, none) {
            (Ok(a), Ok(b)) if a == b => Ok(()),
            (Err(_), Err(_)) => Ok(()),
            (a, b) => Err(format!("{text} in {region:?}: {a:?} against {b:?}")),
        }
    }

    /// Naming the region the parser would find gives the same number, for every example
    /// number of every region of a shared code (and a few non-examples).
    #[test]
    fn naming_a_shared_codes_region_parses_as_phonenumber_does() {
        let mut types = Types::default();
        let mut named = 0;
        for meta in DATABASE.iter() {
            let code = meta.country_code();
            if DATABASE.region(&code).is_none_or(|r| r.len() < 2) {
                continue;
            }
            let d = meta.descriptors();
            for example in [Some(d.general()), d.fixed_line(), d.mobile(), d.toll_free()]
                .into_iter()
                .flatten()
                .filter_map(Descriptor::example)
            {
                for national in [
                    example.to_owned(),
                    format!("0{example}"),
                    format!("{example}9"),
                    example[1..].to_owned(),
                ] {
                    let text = format!("+{code}{national}");
                    same_parse(&mut types, &text).unwrap();
                    named += usize::from(types.parse_region(&text[1..]).is_some());
                }
            }
        }
        assert!(named > 300, "only {named} numbers parsed in a named region");
    }

    proptest::proptest! {
        /// The same over any digits after a shared code.
        #[test]
        fn a_shared_codes_region_parses_any_digits_as_phonenumber_does(
            which in 0usize..10,
            digits in "[0-9]{2,13}",
        ) {
            let code = ["1", "44", "7", "61", "39", "47", "262", "590", "599", "212"][which];
            let mut types = Types::default();
            let text = format!("+{code}{digits}");
            proptest::prop_assert!(same_parse(&mut types, &text).is_ok(), "{:?}", same_parse(&mut types, &text));
        }
    }

    #[test]
    fn numeric_cells_are_read_as_the_source_says() {
        use crate::campaign::NumbersAs;
        let ng = country("NG");
        let national = from_number_cell("8031234567", NumbersAs::National, Some("NG"));
        assert_eq!(national, "08031234567");
        assert_eq!(
            normalise(&national, ng, &[]).unwrap().e164,
            "+2348031234567"
        );
        let international = from_number_cell("2348135678901", NumbersAs::International, None);
        assert_eq!(
            normalise(&international, None, &[]).unwrap().e164,
            "+2348135678901"
        );
        // An international number read as a national one is not taken apart: refused.
        let wrong = from_number_cell("2348135678901", NumbersAs::National, Some("NG"));
        assert!(normalise(&wrong, ng, &[]).is_err(), "{wrong}");
    }

    #[test]
    fn normalises_nigerian_numbers() {
        assert_eq!(ng("08076960623").unwrap(), "+2348076960623");
        assert_eq!(ng("+2348076960623").unwrap(), "+2348076960623");
        assert_eq!(ng("+234 807 696 0623").unwrap(), "+2348076960623");
        assert_eq!(ng("0807-696-0623").unwrap(), "+2348076960623");
        assert_eq!(ng("(0807) 696.0623").unwrap(), "+2348076960623");
        assert_eq!(ng("002348076960623").unwrap(), "+2348076960623");
    }

    #[test]
    fn rejects_bad_numbers() {
        assert_eq!(ng("12345"), Err(PhoneProblem::Invalid));
        assert_eq!(ng(""), Err(PhoneProblem::Missing));
        assert_eq!(
            ng("0803 CALL ME"),
            Err(PhoneProblem::BadChar {
                ch: 'C',
                position: 6
            })
        );
        assert_eq!(ng("+234803123456"), Err(PhoneProblem::Invalid));
        assert_eq!(
            normalise("08031234567", None, &[]),
            Err(PhoneProblem::NoCountry)
        );
    }

    #[test]
    fn digits_of_any_script_and_invisible_marks() {
        let ng = country("NG");
        let plain = normalise("08031234567", ng, &[]).unwrap().e164;
        for pasted in [
            "０８０３１２３４５６７",              // fullwidth
            "٠٨٠٣١٢٣٤٥٦٧",                         // Arabic-Indic
            "۰۸۰۳۱۲۳۴۵۶۷",                         // Extended Arabic-Indic (Persian, Urdu)
            "\u{200b}08031234567",                 // a zero-width space in front
            "\u{200f}08031234567\u{200e}",         // direction marks around it
            "\u{feff}0803\u{2013}123\u{2013}4567", // a BOM, en dashes
            "\u{2066}+234 803 123 4567\u{2069}",   // isolates around an international number
        ] {
            assert_eq!(
                normalise(pasted, ng, &[]).map(|p| p.e164),
                Ok(plain.clone()),
                "{pasted:?}"
            );
        }
        assert_eq!(
            normalise("0803123456O", ng, &[]),
            Err(PhoneProblem::BadChar {
                ch: 'O',
                position: 11
            })
        );
        let emoji = normalise("0803☎1234567", ng, &[]).unwrap_err();
        assert_eq!(
            emoji.describe(),
            "not a phone number: `☎` (U+260E) at position 5"
        );
        assert_eq!(
            PhoneProblem::BadChar {
                ch: '\u{200b}',
                position: 1
            }
            .describe(),
            "not a phone number: U+200B zero-width space at position 1"
        );
    }

    #[test]
    fn restricts_countries() {
        let ghana = normalise("+233241234567", Some(Id::NG), &[Id::NG]);
        assert_eq!(ghana, Err(PhoneProblem::CountryNotAllowed("GH".to_owned())));
        assert!(normalise("+233241234567", Some(Id::NG), &[Id::NG, Id::GH]).is_ok());
    }

    /// The E.164 text is built by hand; it must be what the formatter writes.
    #[test]
    fn e164_matches_the_formatter() {
        for (raw, country) in [
            ("08076960623", Id::NG),
            ("+2348076960623", Id::NG),
            ("+233241234567", Id::NG),
            ("0612345678", Id::IT),
            ("+390612345678", Id::IT),
            ("020 7946 0018", Id::GB),
            ("(202) 555-0143", Id::US),
            ("0712 345678", Id::KE),
        ] {
            let Ok(p) = normalise(raw, Some(country), &[]) else {
                continue;
            };
            let parsed = phonenumber::parse(Some(country), raw).unwrap();
            assert_eq!(
                p.e164,
                parsed.format().mode(phonenumber::Mode::E164).to_string(),
                "{raw}"
            );
        }
    }

    /// The validity check as written before the single-search shortcut (the same parse as
    /// `normalise`: no default country for international numbers).
    fn reference(raw: &str, country: Id) -> Option<(String, Type)> {
        let default = (!raw.starts_with('+')).then_some(country);
        let n = phonenumber::parse(default, raw).ok()?;
        if !n.is_valid_with(&DATABASE) {
            return None;
        }
        Some((
            n.format().mode(phonenumber::Mode::E164).to_string(),
            n.number_type(&DATABASE),
        ))
    }

    proptest::proptest! {
        /// One type search gives the same verdict as validity plus type (the shortcut above).
        #[test]
        fn the_shortcut_agrees_with_the_reference(
            digits in "[0-9]{6,13}",
            which in 0usize..6,
            plus in proptest::bool::ANY,
        ) {
            let country = [Id::NG, Id::GH, Id::KE, Id::IT, Id::US, Id::GB][which];
            let raw = if plus { format!("+{digits}") } else { digits };
            // normalise reads a leading 00 as +; the reference would not.
            proptest::prop_assume!(!raw.starts_with("00"));
            let ours = normalise(&raw, Some(country), &[]);
            match reference(&raw, country) {
                Some((e164, Type::Mobile | Type::FixedLine | Type::FixedLineOrMobile)) => {
                    proptest::prop_assert_eq!(ours.map(|p| p.e164), Ok(e164));
                }
                _ => proptest::prop_assert!(ours.is_err(), "{raw}: {ours:?}"),
            }
        }
    }

    #[test]
    fn masks() {
        assert_eq!(mask("+2348031234567"), "+234******4567");
        assert_eq!(mask("123"), "123");
    }
}
