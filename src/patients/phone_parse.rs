//! `phonenumber::parse` for the text [`super::phone::normalise`] hands it (an optional `+`,
//! then ASCII digits), step for step, on this thread's regexes.
//!
//! The crate's parser first runs a general text parser (nom, with RFC 3966 and extensions)
//! over every cell, then asks regexes it keeps behind one process-wide lock: for a list of a
//! million numbers that is most of the time plan spends on numbers, and its workers queue on
//! the lock. Here the same steps run in the same order: the international dialling prefix,
//! the country code, the national prefix (and its transform rule) and the length checks,
//! with the metadata's own patterns compiled per thread. A region whose patterns do not
//! compile here, or a case these steps do not cover, is left to the crate's parser
//! (`None`). Tests hold the two equal over every example number of every region, written
//! in every way a list writes it, as the default country and not.

use std::cell::RefCell;
use std::collections::HashMap;

use phonenumber::NationalNumber;
use phonenumber::country::Id;
use phonenumber::metadata::{DATABASE, Metadata};

use super::phone::{Desc, anchored};

/// The shortest national number the parser accepts (its `MIN_LENGTH_FOR_NSN`).
const MIN_NATIONAL: usize = 2;
/// The longest (`MAX_LENGTH_FOR_NSN`).
const MAX_NATIONAL: usize = 17;

/// What a number parses to: its country code and national number.
pub(super) type Parsed = (u16, NationalNumber);

/// Parses `text` (`+` and digits, or digits) as `phonenumber::parse(country, text)` does:
/// `Some(Ok)` the number it reads, `Some(Err)` when it refuses the text, `None` when the
/// crate's parser must answer.
pub(super) fn parse(country: Option<Id>, text: &str) -> Option<Result<Parsed, ()>> {
    let (international, digits) = match text.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if digits.len() < MIN_NATIONAL + 1 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    REGIONS.with(|r| r.borrow_mut().parse(country, international, digits))
}

/// How the country code was found (phonenumber's `country::Source`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Found {
    /// After a `+`.
    Plus,
    /// After the default region's international dialling prefix.
    Idd,
    /// The default region's.
    Default,
}

/// The parts of a region's metadata the parser uses, compiled for this thread.
struct Region {
    code: u16,
    /// Its international dialling prefix (`00`, `011`), anchored.
    idd: Option<regex::Regex>,
    /// Its pattern for the national prefix (and carrier code), anchored.
    prefix_for_parsing: Option<regex::Regex>,
    transform: Option<String>,
    national_prefix: Option<String>,
    general: Desc,
    /// The general descriptor's possible lengths, and those of local numbers only.
    possible: Vec<u16>,
    local: Vec<u16>,
}

impl Region {
    #[expect(
        clippy::redundant_closure_for_method_calls,
        reason = "the metadata's regex type is regex_cache's, not a crate of ours to name"
    )]
    fn compile(meta: &Metadata) -> Option<Region> {
        let d = meta.descriptors().general();
        // A pattern that does not compile here (`None`) leaves the region to the crate.
        let optional = |pattern: Option<&str>| match pattern {
            Some(p) => anchored(p).map(Some),
            None => Some(None),
        };
        Some(Region {
            code: meta.country_code(),
            idd: optional(meta.international_prefix().map(|r| r.as_str()))?,
            prefix_for_parsing: optional(meta.national_prefix_for_parsing().map(|r| r.as_str()))?,
            transform: meta.national_prefix_transform_rule().map(ToOwned::to_owned),
            national_prefix: meta.national_prefix().map(ToOwned::to_owned),
            general: Desc::new(d)?,
            possible: d.possible_length().to_vec(),
            local: d.possible_local_length().to_vec(),
        })
    }

    /// phonenumber's `validator::length` for `Type::Unknown`: only "too short" is asked here.
    fn too_short(&self, len: usize) -> bool {
        let len = u16::try_from(len).unwrap_or(u16::MAX);
        match self.possible.first() {
            None => false,
            Some(_) if self.local.contains(&len) => false,
            Some(&min) => len < min,
        }
    }

    /// Whether the length is possible (`validator::length(..).is_possible()`).
    fn possible_length(&self, len: usize) -> bool {
        let len = u16::try_from(len).unwrap_or(u16::MAX);
        match (self.possible.first(), self.possible.last()) {
            (Some(&min), Some(&max)) => {
                self.local.contains(&len)
                    || len == min
                    || (len > min && len <= max && self.possible.contains(&len))
            }
            _ => false,
        }
    }

    /// phonenumber's `helper::national_number` (the national prefix stripped, or transformed),
    /// then the parser's own strip of the national prefix; the parser keeps the result unless
    /// it is too short. `None`: a case left to the crate.
    fn national<'a>(&self, national: &'a str) -> Option<std::borrow::Cow<'a, str>> {
        use std::borrow::Cow;
        let mut out: Cow<'a, str> = Cow::Borrowed(national);
        match &self.prefix_for_parsing {
            None => {
                if let Some(p) = &self.national_prefix
                    && national.starts_with(p.as_str())
                {
                    out = Cow::Borrowed(&national[p.len()..]);
                }
            }
            Some(parsing) => {
                if let Some(captures) = parsing.captures(national) {
                    let end = captures.get(0)?.end();
                    let last = captures.get(captures.len() - 1);
                    match (&self.transform, last) {
                        (Some(transform), Some(_)) => {
                            // The crate unwraps the first group here: if it did not take part,
                            // its parser answers (as it always did).
                            captures.get(1)?;
                            let transformed = parsing.replace(national, transform.as_str());
                            let viable = self.general.is_match(national);
                            if !viable || self.general.is_match(&transformed) {
                                out = Cow::Owned(transformed.into_owned());
                            }
                        }
                        // The crate compares the number with itself here (from the start of
                        // the match, which is 0), so it always strips the match.
                        _ => out = Cow::Borrowed(&national[end..]),
                    }
                }
            }
        }
        if let Some(p) = &self.national_prefix
            && out.starts_with(p.as_str())
        {
            out = match out {
                Cow::Borrowed(s) => Cow::Borrowed(&s[p.len()..]),
                Cow::Owned(s) => Cow::Owned(s[p.len()..].to_owned()),
            };
        }
        if self.too_short(out.len()) {
            Some(Cow::Borrowed(national))
        } else {
            Some(out)
        }
    }
}

/// The regions compiled on this thread, by region and by country code.
#[derive(Default)]
struct Regions {
    by_id: HashMap<Id, Option<Region>>,
    /// A country code's one region (`None`: shared by several, non-geographic, or unknown).
    by_code: HashMap<u16, Option<Id>>,
}

impl Regions {
    fn region(&mut self, id: Id) -> Option<&Region> {
        self.by_id
            .entry(id)
            .or_insert_with(|| DATABASE.by_id(id.as_ref()).and_then(Region::compile))
            .as_ref()
    }

    /// The region the parser reads a number of `code` in when it is given none: the code's
    /// only region.
    fn only_region(&mut self, code: u16) -> Option<Id> {
        *self
            .by_code
            .entry(code)
            .or_insert_with(|| match DATABASE.region(&code)?.as_slice() {
                [one] if *one != "001" => one.parse().ok(),
                _ => None,
            })
    }

    fn parse(
        &mut self,
        country: Option<Id>,
        international: bool,
        digits: &str,
    ) -> Option<Result<Parsed, ()>> {
        let default = match country {
            Some(id) => Some(self.region(id)?),
            None => None,
        };
        // The international dialling prefix (`helper::international_prefix`): after a `+`
        // only when the default region's also starts the digits; without one, the region's
        // prefix makes the number international.
        let mut found = if international {
            Found::Plus
        } else {
            Found::Default
        };
        let mut national = digits;
        if let Some(idd) = default.and_then(|r| r.idd.as_ref())
            && let Some(m) = idd.find(national)
            && !national[m.end()..].starts_with('0')
        {
            if found != Found::Plus {
                found = Found::Idd;
            }
            national = &national[m.end()..];
        }
        // The country code (`helper::country_code`).
        let code = match found {
            Found::Plus | Found::Idd => {
                if national.len() <= MIN_NATIONAL || national.starts_with('0') {
                    return Some(Err(()));
                }
                let Some(len) = (1..=3).find(|&len| {
                    national[..len]
                        .parse::<u16>()
                        .is_ok_and(|c| DATABASE.by_code(&c).is_some())
                }) else {
                    return Some(Err(()));
                };
                let code = national[..len].parse::<u16>().ok()?;
                national = &national[len..];
                code
            }
            Found::Default => {
                let region = default?;
                let code = region.code.to_string();
                if national.starts_with(code.as_str())
                    && (!region.general.is_match(national)
                        || !region.possible_length(national.len()))
                {
                    national = &national[code.len()..];
                }
                region.code
            }
        };
        // The region whose national prefix is stripped: the default, else the code's only
        // one (a code regions share, given no region, is left to the crate).
        let id = match country {
            Some(id) => id,
            None => self.only_region(code)?,
        };
        let region = self.region(id)?;
        let national = region.national(national)?;
        if national.len() < MIN_NATIONAL || national.len() > MAX_NATIONAL {
            return Some(Err(()));
        }
        Some(national_number(&national).map(|n| (code, n)))
    }
}

/// phonenumber's `NationalNumber::from_str`: its leading zeros counted, the rest a number.
fn national_number(digits: &str) -> Result<NationalNumber, ()> {
    let rest = digits.trim_start_matches('0');
    let zeros = u8::try_from(digits.len() - rest.len()).map_err(|_| ())?;
    let value = rest.parse::<u64>().map_err(|_| ())?;
    NationalNumber::new(value, zeros).map_err(|_| ())
}

thread_local! {
    static REGIONS: RefCell<Regions> = RefCell::new(Regions::default());
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonenumber::metadata::Descriptor;

    /// Ours against the crate's, for one text and default region.
    fn agree(country: Option<Id>, text: &str) -> Result<bool, String> {
        let theirs = phonenumber::parse(country, text).map(|n| (n.code().value(), *n.national()));
        match (parse(country, text), theirs) {
            (None, _) => Ok(false),
            (Some(Ok(a)), Ok(b)) if a == b => Ok(true),
            (Some(Err(())), Err(_)) => Ok(true),
            (ours, theirs) => Err(format!(
                "{text} in {country:?}: ours {ours:?}, phonenumber's {theirs:?}"
            )),
        }
    }

    /// Every way a list writes an example number of a region.
    fn written(meta: &Metadata, example: &str) -> Vec<String> {
        let code = meta.country_code();
        let prefix = meta.national_prefix().unwrap_or("");
        let idd = meta.preferred_international_prefix().unwrap_or("00");
        let mut out = vec![
            example.to_owned(),
            format!("{prefix}{example}"),
            format!("0{example}"),
            format!("{code}{example}"),
            format!("{code}{prefix}{example}"),
            format!("+{code}{example}"),
            format!("+{code}{prefix}{example}"),
            format!("+{code}0{example}"),
            format!("{idd}{code}{example}"),
            format!("+{idd}{code}{example}"),
            format!("{example}9"),
            format!("+{code}{example}9"),
        ];
        if example.len() > 1 {
            out.push(example[1..].to_owned());
            out.push(format!("+{code}{}", &example[1..]));
        }
        out
    }

    /// For every region as the default country (and none), every example number of every
    /// type written every way parses as phonenumber parses it; and nearly all are answered
    /// here, not left to the crate.
    #[test]
    fn every_example_number_parses_as_phonenumber_parses_it() {
        let (mut ours, mut left) = (0usize, 0usize);
        let mut failures = Vec::new();
        let ids: Vec<Option<Id>> = std::iter::once(None)
            .chain(
                DATABASE
                    .iter()
                    .filter_map(|m| m.id().parse().ok().map(Some)),
            )
            .collect();
        for meta in DATABASE.iter() {
            let d = meta.descriptors();
            let examples = [Some(d.general()), d.fixed_line(), d.mobile(), d.toll_free()];
            for example in examples
                .into_iter()
                .flatten()
                .filter_map(Descriptor::example)
            {
                for text in written(meta, example) {
                    // The number's own region, none, and a few others as the default.
                    let own = meta.id().parse().ok();
                    let others = [own, None, Some(Id::NG), Some(Id::US), Some(Id::GB)];
                    for country in others.into_iter().chain(ids.iter().copied().step_by(37)) {
                        match agree(country, &text) {
                            Ok(true) => ours += 1,
                            Ok(false) => left += 1,
                            Err(e) => failures.push(e),
                        }
                    }
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} differ: {failures:#?}",
            failures.len()
        );
        assert!(ours > 50_000, "only {ours} parsed here ({left} left)");
        // What is left: mostly numbers of a code regions share with no region named, which
        // `normalise` never asks (it names the region), and patterns that do not compile here.
        assert!(left * 6 < ours, "{left} left to the crate against {ours}");
    }

    #[test]
    fn nigerian_numbers_as_lists_write_them() {
        for text in [
            "08031234567",
            "+2348031234567",
            "2348031234567",
            "8031234567",
        ] {
            assert_eq!(agree(Some(Id::NG), text), Ok(true), "{text}");
            assert!(
                parse(Some(Id::NG), text).is_some_and(|r| r.is_ok()),
                "{text}"
            );
        }
        // Refused by both.
        for text in ["0803123", "12345", "+0803123456", "+999123456"] {
            assert_eq!(agree(Some(Id::NG), text), Ok(true), "{text}");
        }
    }

    proptest::proptest! {
        /// Any digits, with or without a `+`, in any region (or none).
        #[test]
        fn any_digits_parse_as_phonenumber_parses_them(
            region in 0usize..260,
            plus in proptest::bool::ANY,
            digits in "[0-9]{1,18}",
        ) {
            let country = DATABASE.iter().nth(region).and_then(|m| m.id().parse().ok());
            let text = if plus { format!("+{digits}") } else { digits };
            let r = agree(country, &text);
            proptest::prop_assert!(r.is_ok(), "{:?}", r);
        }
    }
}
