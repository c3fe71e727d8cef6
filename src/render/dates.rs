//! Reading the dates of patient files, failing closed: a date is read only when there is one
//! way to read it. `15/1/27` (is it 1927 or 2027?), `03/04/2027` (3 April or 4 March?), a date
//! before 1900 or more than five years after the plan's date are refused for their row, with
//! the reason, unless the campaign says how to read them (`dates:`,
//! [`crate::campaign::dates::Dates`]).
//!
//! Read: ISO dates with or without a time and an offset (`2027-01-15`, `2027-01-15T09:30:00`,
//! `2027-01-15 09:30+01:00`, `…Z`); numbers with `/`, `-` or `.` between them (`15/01/2027`,
//! `15-1-2027`, `15.01.2027 09:30`); month names in English (`15-Jan-2027`, `15 January 2027`,
//! `Jan 15, 2027`, `15th Jan 2027`), after a weekday that must be the date's (`Fri 15 Jan
//! 2027`); a time as `09:30`, `9:30:15` or `9:30 pm`; and, in a column declared
//! `excel_serial`, spreadsheet date numbers (`46402`, `46402.375`). An offset or `Z` is not
//! converted: the date and time are read as written.
//!
//! Messages never repeat the value (it comes from a patient file); they say what is wrong with
//! it and which setting reads it.

use std::collections::BTreeSet;

use jiff::civil::{Date, DateTime, Time, Weekday};

use crate::campaign::dates::{DateColumn, DateOrder, Dates};

/// Dates after this many years from the plan's date are refused (a typo, or a placeholder).
pub const MAX_YEARS_AHEAD: i16 = 5;

/// Dates before this year are refused (a two-digit year read as the first century, `0015`).
pub const FIRST_YEAR: i16 = 1900;

/// How one campaign reads dates, on the plan's date.
#[derive(Debug, Clone)]
pub struct DateRules {
    order: Option<DateOrder>,
    two_digit_years: Option<i16>,
    /// Columns declared `excel_serial`.
    serial_columns: BTreeSet<String>,
    today: Date,
    latest: Date,
}

/// A date as read, with its time of day when one was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    pub date: Date,
    pub time: Option<Time>,
}

impl DateRules {
    /// The campaign's rules, with `today` the plan's date (in the campaign's time zone).
    pub fn new(dates: &Dates, today: Date) -> Self {
        DateRules {
            order: dates.order,
            two_digit_years: dates.two_digit_years.and_then(|y| i16::try_from(y).ok()),
            serial_columns: dates
                .columns
                .iter()
                .filter(|(_, kind)| **kind == DateColumn::ExcelSerial)
                .map(|(c, _)| c.clone())
                .collect(),
            today,
            latest: today
                .checked_add(jiff::Span::new().years(MAX_YEARS_AHEAD))
                .unwrap_or(Date::MAX),
        }
    }

    /// No `dates:` settings, on the clock's date (UTC): for tests and for callers that have
    /// no campaign.
    pub fn strict_today() -> Self {
        let today = crate::clock::now()
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .date();
        DateRules::new(&Dates::default(), today)
    }

    /// The plan's date these rules count "five years after" from.
    pub fn today(&self) -> Date {
        self.today
    }

    /// Reads `text`, the value of `column` when the helper was given a column.
    pub fn read(&self, text: &str, column: Option<&str>) -> Result<Moment, String> {
        let what = column.map_or_else(|| "the date".to_owned(), |c| format!("the date in `{c}`"));
        let text = text.trim();
        let serial_column = column.is_some_and(|c| self.serial_columns.contains(c));
        let moment = if is_number(text) {
            if serial_column {
                excel_serial(text).ok_or_else(|| {
                    format!("{what} is not a spreadsheet date number (whole days since 30 December 1899)")
                })?
            } else {
                let hint = match column {
                    Some(c) => format!(
                        "if `{c}` holds spreadsheet date numbers (a CSV exported from Excel), declare it: `dates: {{columns: {{{}: excel_serial}}}}`",
                        yaml_key(c)
                    ),
                    None => "write it as 2026-12-03".to_owned(),
                };
                return Err(format!("{what} is a number, not a date: {hint}"));
            }
        } else {
            self.parse(text, &what)?
        };
        if moment.date.year() < FIRST_YEAR {
            return Err(format!(
                "{what} is before {FIRST_YEAR}: check the year (a two-digit year needs `dates.two_digit_years`)"
            ));
        }
        if moment.date > self.latest {
            return Err(format!(
                "{what} is more than {MAX_YEARS_AHEAD} years after today ({}): check the year",
                self.today
            ));
        }
        Ok(moment)
    }

    fn parse(&self, text: &str, what: &str) -> Result<Moment, String> {
        let unreadable = || {
            format!(
                "{what} is not a date outreach can read (write it as 2026-12-03, 03/12/2026 or 3 Dec 2026)"
            )
        };
        let toks = tokens(text);
        let mut p = Cursor { toks: &toks, at: 0 };
        let weekday = p.weekday();
        let date = match p.date_parts().ok_or_else(unreadable)? {
            Parts::Numeric(first, second, last) => self.numeric(first, second, last, what)?,
            Parts::Named { day, month, year } => {
                let year = self.year(year, what)?;
                calendar(year, month, day, what)?
            }
        };
        let time = p.time().map_err(|Unreadable| unreadable())?;
        p.offset();
        if !p.done() {
            return Err(unreadable());
        }
        if let Some(w) = weekday
            && w != date.weekday()
        {
            return Err(format!(
                "{what} names a weekday that is not the date's: check the day and the month"
            ));
        }
        Ok(Moment { date, time })
    }

    /// A year token: four digits as written, two digits by `dates.two_digit_years`.
    fn year(&self, digits: &str, what: &str) -> Result<i16, String> {
        let n: i16 = digits.parse().map_err(|_| format!("{what} has no year"))?;
        match digits.len() {
            4 => Ok(n),
            2 => match self.two_digit_years {
                Some(first) => {
                    let mut y = first - first.rem_euclid(100) + n;
                    if y < first {
                        y += 100;
                    }
                    Ok(y)
                }
                None => Err(format!(
                    "{what} has a two-digit year, which could be in any century: write the year in full, or set `dates.two_digit_years` (such as 2000) in the campaign"
                )),
            },
            _ => Err(format!("{what} has a year of {} digits", digits.len())),
        }
    }

    /// `a/b/c` with the same separator twice: the year first when it has four digits, else by
    /// `dates.order`, else by whichever of day and month is above 12.
    fn numeric(&self, first: &str, second: &str, last: &str, what: &str) -> Result<Date, String> {
        let small = |s: &str| s.len() <= 2;
        if first.len() == 4 && small(second) && small(last) {
            return calendar(self.year(first, what)?, num(second), num(last), what);
        }
        if !(small(first) && small(second) && matches!(last.len(), 1 | 2 | 4)) {
            return Err(format!(
                "{what} is not a date outreach can read (write it as 2026-12-03)"
            ));
        }
        match self.order {
            Some(DateOrder::Ymd) => {
                if last.len() == 4 {
                    return Err(format!(
                        "{what} ends with its year, but `dates.order` is ymd: check the order"
                    ));
                }
                calendar(self.year(first, what)?, num(second), num(last), what)
            }
            Some(order) => {
                let (day, month) = match order {
                    DateOrder::Mdy => (num(second), num(first)),
                    _ => (num(first), num(second)),
                };
                if month > 12 {
                    return Err(format!(
                        "{what} has no month {month} when read as `dates.order: {}`: check the order",
                        order.as_str()
                    ));
                }
                calendar(self.year(last, what)?, month, day, what)
            }
            None => {
                let (one, two) = (num(first), num(second));
                let (day, month) = match (one > 12, two > 12) {
                    (true, false) => (one, two),
                    (false, true) => (two, one),
                    (true, true) => {
                        return Err(format!("{what} has no month (both numbers are above 12)"));
                    }
                    (false, false) if one == two => (one, two),
                    (false, false) => {
                        return Err(format!(
                            "{what} could be day/month or month/day (both numbers are 12 or less): set `dates.order` to `dmy` or `mdy` in the campaign"
                        ));
                    }
                };
                calendar(self.year(last, what)?, month, day, what)
            }
        }
    }
}

/// What reading a date takes, for `init`'s guesses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shape {
    /// Its day and month could be swapped (`03/04/2027`).
    pub ambiguous: bool,
    /// The order its numbers show, when one of the first two is above 12.
    pub shows: Option<DateOrder>,
    /// It has a two-digit year.
    pub two_digit_year: bool,
}

/// The shape of a date as written, or `None` when it is not one of the forms read.
pub fn shape(text: &str) -> Option<Shape> {
    let toks = tokens(text.trim());
    let mut p = Cursor { toks: &toks, at: 0 };
    p.weekday();
    Some(match p.date_parts()? {
        Parts::Numeric(first, _, _) if first.len() == 4 => Shape::default(),
        Parts::Numeric(first, second, last) => {
            let (one, two) = (num(first), num(second));
            Shape {
                ambiguous: one <= 12 && two <= 12 && one != two,
                shows: match (one > 12, two > 12) {
                    (true, false) => Some(DateOrder::Dmy),
                    (false, true) => Some(DateOrder::Mdy),
                    _ => None,
                },
                two_digit_year: last.len() == 2,
            }
        }
        Parts::Named { year, .. } => Shape {
            two_digit_year: year.len() == 2,
            ..Shape::default()
        },
    })
}

/// A column name as a YAML key in a hint.
fn yaml_key(c: &str) -> String {
    if c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_') {
        c.to_owned()
    } else {
        format!("\"{}\"", c.replace('"', "\\\""))
    }
}

fn num(s: &str) -> i8 {
    s.parse().unwrap_or(0)
}

fn calendar(year: i16, month: i8, day: i8, what: &str) -> Result<Date, String> {
    Date::new(year, month, day)
        .map_err(|_| format!("{what} is not a day of the calendar (check the day and the month)"))
}

/// Digits, with at most one `.` and digits after it.
fn is_number(s: &str) -> bool {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !(s.contains('.') && frac.is_empty())
}

/// A spreadsheet date number: days since 1899-12-30 (Excel counts a 29 February 1900 that
/// never was, so serials before it start a day later), the fraction the time of day.
fn excel_serial(text: &str) -> Option<Moment> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.len() > 7 {
        return None;
    }
    let days: i64 = whole.parse().ok()?;
    let (base, days) = match days {
        1..60 => (jiff::civil::date(1899, 12, 31), days),
        60 => return None, // 29 February 1900, which Excel counts and the calendar does not
        _ if days > 60 => (jiff::civil::date(1899, 12, 30), days),
        _ => return None,
    };
    let date = base.checked_add(jiff::Span::new().days(days)).ok()?;
    let time = if frac.trim_end_matches('0').is_empty() {
        None
    } else {
        let fraction: f64 = format!("0.{frac}").parse().ok()?;
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a fraction of a day in seconds, 0 to 86400"
        )]
        let seconds = ((fraction * 86_400.0).round() as u32).min(86_399);
        let t = |n: u32| i8::try_from(n).ok();
        Some(
            Time::new(
                t(seconds / 3600)?,
                t(seconds / 60 % 60)?,
                t(seconds % 60)?,
                0,
            )
            .ok()?,
        )
    };
    Some(Moment { date, time })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok<'a> {
    Num(&'a str),
    Word(&'a str),
    /// Any other character; runs of white space are one `' '`.
    Sep(char),
}

fn tokens(s: &str) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let run = |chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
                   keep: fn(char) -> bool| {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if !keep(d) {
                    break;
                }
                end = j + d.len_utf8();
                chars.next();
            }
            end
        };
        if c.is_ascii_digit() {
            let end = run(&mut chars, |d| d.is_ascii_digit());
            out.push(Tok::Num(&s[i..end]));
        } else if c.is_alphabetic() {
            let end = run(&mut chars, char::is_alphabetic);
            out.push(Tok::Word(&s[i..end]));
        } else if c.is_whitespace() {
            run(&mut chars, char::is_whitespace);
            out.push(Tok::Sep(' '));
        } else {
            out.push(Tok::Sep(c));
        }
    }
    out
}

/// What follows a date is not a time.
struct Unreadable;

enum Parts<'a> {
    Numeric(&'a str, &'a str, &'a str),
    Named { day: i8, month: i8, year: &'a str },
}

struct Cursor<'t, 'a> {
    toks: &'t [Tok<'a>],
    at: usize,
}

impl<'a> Cursor<'_, 'a> {
    fn peek(&self) -> Option<Tok<'a>> {
        self.toks.get(self.at).copied()
    }
    fn peek_at(&self, n: usize) -> Option<Tok<'a>> {
        self.toks.get(self.at + n).copied()
    }
    fn done(&self) -> bool {
        self.at >= self.toks.len()
    }
    fn eat_sep(&mut self, any_of: &[char]) -> Option<char> {
        match self.peek() {
            Some(Tok::Sep(c)) if any_of.contains(&c) => {
                self.at += 1;
                Some(c)
            }
            _ => None,
        }
    }
    fn num(&mut self) -> Option<&'a str> {
        match self.peek() {
            Some(Tok::Num(n)) => {
                self.at += 1;
                Some(n)
            }
            _ => None,
        }
    }
    /// A day: one or two digits, with an ordinal suffix (`15th`) allowed.
    fn day(&mut self) -> Option<i8> {
        let n = self.num().filter(|n| n.len() <= 2)?;
        if let Some(Tok::Word(w)) = self.peek()
            && ["st", "nd", "rd", "th"].contains(&w.to_ascii_lowercase().as_str())
        {
            self.at += 1;
        }
        n.parse().ok()
    }
    fn month(&mut self) -> Option<i8> {
        let Some(Tok::Word(w)) = self.peek() else {
            return None;
        };
        let m = month_number(w)?;
        self.at += 1;
        self.eat_sep(&['.']); // `Jan.`
        Some(m)
    }

    /// A leading weekday (`Fri`, `Friday,`), to be checked against the date.
    fn weekday(&mut self) -> Option<Weekday> {
        let Some(Tok::Word(w)) = self.peek() else {
            return None;
        };
        let day = weekday(w)?;
        self.at += 1;
        self.eat_sep(&['.']);
        self.eat_sep(&[',']);
        self.eat_sep(&[' ']);
        Some(day)
    }

    fn date_parts(&mut self) -> Option<Parts<'a>> {
        let start = self.at;
        // Numbers only: the same separator twice.
        if let (
            Some(Tok::Num(a)),
            Some(Tok::Sep(s1)),
            Some(Tok::Num(b)),
            Some(Tok::Sep(s2)),
            Some(Tok::Num(c)),
        ) = (
            self.peek(),
            self.peek_at(1),
            self.peek_at(2),
            self.peek_at(3),
            self.peek_at(4),
        ) && s1 == s2
            && ['/', '-', '.'].contains(&s1)
        {
            self.at += 5;
            return Some(Parts::Numeric(a, b, c));
        }
        // `15 Jan 2027`, `15-Jan-2027`, `15th January, 2027`.
        if let Some(day) = self.day() {
            self.eat_sep(&[' ', '-', '/', '.']);
            if let Some(month) = self.month() {
                self.eat_sep(&[',']);
                self.eat_sep(&[' ', '-', '/', '.']);
                if let Some(year) = self.num() {
                    return Some(Parts::Named { day, month, year });
                }
            }
        }
        self.at = start;
        // `Jan 15, 2027`, `January 15th 2027`.
        if let Some(month) = self.month() {
            self.eat_sep(&[' ', '-']);
            if let Some(day) = self.day() {
                self.eat_sep(&[',']);
                self.eat_sep(&[' ', '-']);
                if let Some(year) = self.num() {
                    return Some(Parts::Named { day, month, year });
                }
            }
        }
        None
    }

    /// An optional time of day after the date: `T09:30`, ` 09:30:15.250`, ` 9:30 pm`, `, 09:30`.
    /// `Ok(None)` when there is none, `Err` when what follows is not a time.
    fn time(&mut self) -> Result<Option<Time>, Unreadable> {
        if self.done() {
            return Ok(None);
        }
        let start = self.at;
        match self.peek() {
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("t") => self.at += 1,
            Some(Tok::Sep(',')) => {
                self.at += 1;
                self.eat_sep(&[' ']);
            }
            Some(Tok::Sep(' ')) => self.at += 1,
            _ => return Err(Unreadable),
        }
        let Some(hour) = self.num().filter(|h| h.len() <= 2) else {
            // ` Z` or ` +01:00` after a date alone.
            self.at = start;
            return Ok(None);
        };
        self.clock(hour).map(Some).ok_or(Unreadable)
    }

    /// The rest of a time of day after its hour.
    fn clock(&mut self, hour: &str) -> Option<Time> {
        self.eat_sep(&[':'])?;
        let minute = self.num().filter(|m| m.len() == 2)?;
        let mut second = "0";
        let mut nanos = 0;
        if self.eat_sep(&[':']).is_some() {
            second = self.num().filter(|s| s.len() == 2)?;
            if matches!(self.peek(), Some(Tok::Sep('.' | ',')))
                && matches!(self.peek_at(1), Some(Tok::Num(_)))
            {
                self.at += 1;
                let frac = self.num()?;
                let digits: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
                nanos = digits.parse().ok()?;
            }
        }
        let mut hour: i8 = hour.parse().ok()?;
        let save = self.at;
        self.eat_sep(&[' ']);
        match self.peek() {
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("am") || w.eq_ignore_ascii_case("pm") => {
                if !(1..=12).contains(&hour) {
                    return None;
                }
                self.at += 1;
                let pm = w.eq_ignore_ascii_case("pm");
                hour = match (hour, pm) {
                    (12, false) => 0,
                    (12, true) => 12,
                    (h, true) => h + 12,
                    (h, false) => h,
                };
            }
            _ => self.at = save,
        }
        Time::new(hour, minute.parse().ok()?, second.parse().ok()?, nanos).ok()
    }

    /// An offset or zone after the time, read and not applied: `Z`, ` UTC`, `+01:00`, `+0100`.
    fn offset(&mut self) {
        let start = self.at;
        self.eat_sep(&[' ']);
        match self.peek() {
            Some(Tok::Word(w))
                if ["z", "utc", "gmt"].contains(&w.to_ascii_lowercase().as_str()) =>
            {
                self.at += 1;
            }
            Some(Tok::Sep('+' | '-')) => {
                self.at += 1;
                let ok = match self.num() {
                    Some(h) if h.len() == 4 => true,
                    Some(h) if h.len() == 2 => {
                        if self.eat_sep(&[':']).is_some() {
                            self.num().is_some_and(|m| m.len() == 2)
                        } else {
                            true
                        }
                    }
                    _ => false,
                };
                if !ok {
                    self.at = start;
                }
            }
            _ => self.at = start,
        }
    }
}

fn month_number(w: &str) -> Option<i8> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let w = w.to_ascii_lowercase();
    if w.len() < 3 {
        return None;
    }
    let found = MONTHS.iter().position(|m| {
        *m == w || (w.len() == 3 && m.starts_with(&w)) || (w == "sept" && *m == "september")
    })?;
    i8::try_from(found + 1).ok()
}

fn weekday(w: &str) -> Option<Weekday> {
    const DAYS: [(&str, Weekday); 7] = [
        ("monday", Weekday::Monday),
        ("tuesday", Weekday::Tuesday),
        ("wednesday", Weekday::Wednesday),
        ("thursday", Weekday::Thursday),
        ("friday", Weekday::Friday),
        ("saturday", Weekday::Saturday),
        ("sunday", Weekday::Sunday),
    ];
    let w = w.to_ascii_lowercase();
    if w.len() < 3 {
        return None;
    }
    DAYS.iter()
        .find(|(name, _)| {
            *name == w
                || (w.len() == 3 && name.starts_with(&w))
                || (["tues", "thur", "thurs"].contains(&w.as_str()) && name.starts_with(&w))
        })
        .map(|(_, d)| *d)
}

/// Writes a date with a strftime format, as the `date` helper does: with its time when one
/// was read. A format that writes a time of day on a date without one is refused, never
/// written as midnight.
pub fn format(format: &str, moment: Moment, what: &str) -> Result<String, String> {
    let written = match moment.time {
        Some(t) => jiff::fmt::strtime::format(format, moment.date.to_datetime(t)),
        None => jiff::fmt::strtime::format(format, moment.date),
    };
    written.map_err(|e| {
        if moment.time.is_none()
            && jiff::fmt::strtime::format(format, moment.date.to_datetime(Time::midnight())).is_ok()
        {
            format!("the format `{format}` writes a time of day, and {what} has none")
        } else {
            format!(
                "the date format `{format}` cannot be written: {}",
                format_error(&e)
            )
        }
    })
}

/// Whether a format renders: written on a date with a time, as the helper would write it
/// (the same formatter). `Err` says why not.
pub fn check_format(format: &str) -> Result<(), String> {
    let sample = DateTime::new(2027, 1, 15, 9, 30, 0, 0).unwrap_or_default();
    jiff::fmt::strtime::format(format, sample)
        .map(|_| ())
        .map_err(|e| format_error(&e))
}

/// jiff's message, with its generic prefix dropped.
fn format_error(e: &jiff::Error) -> String {
    let text = e.to_string();
    text.strip_prefix("strftime formatting failed: ")
        .unwrap_or(&text)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn rules(order: Option<DateOrder>, two: Option<u16>) -> DateRules {
        DateRules::new(
            &Dates {
                order,
                two_digit_years: two,
                columns: [("serial".to_owned(), DateColumn::ExcelSerial)]
                    .into_iter()
                    .collect(),
            },
            date(2026, 12, 1),
        )
    }

    fn day(r: &DateRules, s: &str) -> Result<Date, String> {
        r.read(s, Some("d")).map(|m| m.date)
    }

    #[test]
    fn common_forms_are_read() {
        let r = rules(None, None);
        let jan15 = date(2027, 1, 15);
        for s in [
            "2027-01-15",
            "2027/01/15",
            "2027-1-15",
            "15/01/2027",
            "15/1/2027",
            "15-01-2027",
            "15.01.2027",
            "01/15/2027",
            "15-Jan-2027",
            "15 Jan 2027",
            "15 January 2027",
            "15th January, 2027",
            "Jan 15, 2027",
            "January 15 2027",
            "Fri 15 Jan 2027",
            "Friday, 15 January 2027",
            "15/01/2027 09:30",
            "2027-01-15T09:30:00",
            "2027-01-15T09:30:00+01:00",
            "2027-01-15T09:30:00.250Z",
            "2027-01-15 09:30",
            "Fri, 15 Jan 2027 09:30:00 +0100",
            "15/01/2027 9:30 pm",
            "  2027-01-15  ",
        ] {
            assert_eq!(day(&r, s), Ok(jan15), "{s}");
        }
        let m = r.read("15/01/2027 9:30 pm", None).unwrap();
        assert_eq!(m.time, Some(Time::new(21, 30, 0, 0).unwrap()));
        let m = r.read("2027-01-15T09:30:00+01:00", None).unwrap();
        assert_eq!(m.time, Some(Time::new(9, 30, 0, 0).unwrap()), "as written");
        assert_eq!(r.read("2027-01-15", None).unwrap().time, None);
    }

    #[test]
    fn doubtful_dates_are_refused_with_the_setting_that_reads_them() {
        let r = rules(None, None);
        let e = day(&r, "15/1/27").unwrap_err();
        assert!(
            e.contains("two-digit year") && e.contains("dates.two_digit_years"),
            "{e}"
        );
        let e = day(&r, "03/04/2027").unwrap_err();
        assert!(e.contains("dates.order"), "{e}");
        assert_eq!(
            day(&r, "04/04/2027"),
            Ok(date(2027, 4, 4)),
            "same either way"
        );
        let e = day(&r, "0015-01-27").unwrap_err();
        assert!(e.contains("before 1900"), "{e}");
        let e = day(&r, "2032-12-02").unwrap_err();
        assert!(e.contains("more than 5 years"), "{e}");
        assert!(day(&r, "2031-12-01").is_ok(), "five years to the day");
        assert!(day(&r, "Mon 15 Jan 2027").unwrap_err().contains("weekday"));
        assert!(day(&r, "31/02/2027").unwrap_err().contains("calendar"));
        assert!(day(&r, "15 Jan").is_err());
        assert!(day(&r, "soon").is_err());
        assert!(day(&r, "15/01/2027 25:00").is_err());
        assert!(day(&r, "15/01-2027").is_err());
        let e = day(&r, "46402").unwrap_err();
        assert!(e.contains("excel_serial") && e.contains("`d`"), "{e}");
    }

    #[test]
    fn the_campaign_says_how_to_read_them() {
        let dmy = rules(Some(DateOrder::Dmy), Some(2000));
        assert_eq!(day(&dmy, "15/1/27"), Ok(date(2027, 1, 15)));
        assert_eq!(day(&dmy, "03/04/2027"), Ok(date(2027, 4, 3)));
        assert!(day(&dmy, "01/15/2027").unwrap_err().contains("no month 15"));
        assert_eq!(
            day(&dmy, "2027-04-03"),
            Ok(date(2027, 4, 3)),
            "ISO stays ISO"
        );
        let mdy = rules(Some(DateOrder::Mdy), None);
        assert_eq!(day(&mdy, "03/04/2027"), Ok(date(2027, 3, 4)));
        let ymd = rules(Some(DateOrder::Ymd), Some(2000));
        assert_eq!(day(&ymd, "27/04/03"), Ok(date(2027, 4, 3)));
        assert!(day(&ymd, "03/04/2027").is_err());
        let fifties = rules(None, Some(1950));
        assert_eq!(day(&fifties, "15 Jan 30"), Ok(date(2030, 1, 15)));
        assert_eq!(day(&fifties, "15 Jan 50"), Ok(date(1950, 1, 15)));
        // 2049: the century is right, and the bound refuses it.
        assert!(
            day(&fifties, "15 Jan 49")
                .unwrap_err()
                .contains("more than 5 years")
        );
    }

    #[test]
    fn spreadsheet_numbers_in_a_declared_column() {
        let r = rules(None, None);
        let serial = |s: &str| r.read(s, Some("serial"));
        assert_eq!(serial("46402").unwrap().date, date(2027, 1, 15));
        let m = serial("46402.375").unwrap();
        assert_eq!(m.time, Some(Time::new(9, 0, 0, 0).unwrap()));
        assert_eq!(serial("15/01/2027").unwrap().date, date(2027, 1, 15));
        assert!(serial("60").is_err(), "29 February 1900 does not exist");
        assert_eq!(serial("12").unwrap().date, date(1900, 1, 12));
        assert_eq!(serial("61").unwrap().date, date(1900, 3, 1));
        assert!(serial("99999999").is_err());
        assert!(serial("0").is_err());
    }

    #[test]
    fn formats_are_checked_with_the_formatter_that_writes_them() {
        assert!(check_format("%A %-d %B").is_ok());
        assert!(check_format("%A %Q").is_err());
        assert!(check_format("%d %v").is_err());
        assert!(check_format("%").is_err());
        let m = Moment {
            date: date(2027, 1, 15),
            time: None,
        };
        assert_eq!(
            format("%A %-d %B %Y", m, "it").unwrap(),
            "Friday 15 January 2027"
        );
        assert!(format("%H:%M", m, "it").unwrap_err().contains("has none"));
    }

    proptest! {
        /// Every date in range, written in each common form, reads back as itself; ambiguous
        /// numeric forms read back only when the order is given.
        #[test]
        fn written_dates_read_back(days in 0i32..(365 * 5), hour in 0i8..24, minute in 0i8..60) {
            let d = date(2026, 12, 1).checked_add(jiff::Span::new().days(days)).unwrap();
            let strict = rules(None, None);
            let dmy = rules(Some(DateOrder::Dmy), Some(2000));
            let mdy = rules(Some(DateOrder::Mdy), Some(2000));
            let at = d.to_datetime(Time::new(hour, minute, 0, 0).unwrap());
            for f in ["%Y-%m-%d", "%d-%b-%Y", "%-d %B %Y", "%b %-d, %Y", "%a %d %b %Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M+01:00", "%d/%m/%Y %-I:%M %p"] {
                let text = at.strftime(f).to_string();
                let read = strict.read(&text, None);
                if d.day() <= 12 && d.day() != d.month() && f.starts_with("%d/") {
                    prop_assert!(read.is_err(), "{}", text);
                } else {
                    prop_assert_eq!(read.map(|m| m.date), Ok(d), "{}", text);
                }
            }
            let dm = d.strftime("%d/%m/%Y").to_string();
            let md = d.strftime("%m/%d/%Y").to_string();
            prop_assert_eq!(day(&dmy, &dm), Ok(d));
            prop_assert_eq!(day(&mdy, &md), Ok(d));
            prop_assert_eq!(day(&dmy, &d.strftime("%d/%m/%y").to_string()), Ok(d));
            let ambiguous = d.day() <= 12 && d.day() != d.month();
            prop_assert_eq!(day(&strict, &dm).is_err(), ambiguous, "{}", dm);
            if !ambiguous {
                prop_assert_eq!(day(&strict, &dm), Ok(d));
            }
            prop_assert!(day(&strict, &d.strftime("%d/%m/%y").to_string()).is_err());
        }

        /// Any text: an answer or a reason, never a panic.
        #[test]
        fn any_text_is_read_or_refused(text in "\\PC{0,40}") {
            let _ = rules(Some(DateOrder::Dmy), Some(2000)).read(&text, Some("serial"));
            let _ = rules(None, None).read(&text, Some("d"));
        }

        /// A reason never repeats the value (it comes from a patient file).
        #[test]
        fn reasons_do_not_repeat_the_value(a in "[0-9/ .:a-z-]{0,10}", b in "[0-9/ .:a-z-]{0,10}") {
            let text = format!("{a}Qx7{b}");
            if let Err(e) = rules(None, None).read(&text, Some("d")) {
                prop_assert!(!e.contains("Qx7"), "{}", e);
            }
        }
    }
}
