//! The starter campaign `outreach init` writes: a commented YAML file, every section
//! explained, built from the guesses of [`crate::init::guess`].
//!
//! Written as text rather than serialised, for the comments. The result is checked by the
//! validator like any other campaign (and by the tests).

use std::fmt::Write as _;

use crate::campaign::{CONVERSATION_ACCENTS, FileFormat, Kind, PROVIDER_REQUESTS_PER_SECOND};
use crate::init::guess::{ColumnKind, PhoneScore, Proposal, Role};
use crate::init::language::LanguageGuess;
use crate::report::words::plural;

/// The voicebot mock's seeded workflow of a kind, and its message: a starter campaign plans
/// (and runs against the mock) before the user has a workflow of their own.
pub fn demo_workflow(kind: Kind) -> (&'static str, String) {
    let id = match kind {
        Kind::Robocall => voicebot_api::seed::SEED_ROBOCALL_WORKFLOW,
        Kind::Conversation => voicebot_api::seed::SEED_CONVERSATION_WORKFLOW,
    };
    let message = voicebot_api::seed::seeded_workflows()
        .into_iter()
        .find(|w| w.id == id)
        .map(|w| w.message)
        .unwrap_or_default();
    (id, message)
}

/// Everything the starter campaign is made of.
/// How phone cells stored as numbers are read, when the sheet has some.
fn numbers_as_line(w: &mut String, how: Option<crate::campaign::NumbersAs>) {
    let Some(how) = how else {
        return;
    };
    let _ = writeln!(
        w,
        "    # Some phone cells are stored as numbers, which lost their leading 0 or +: read"
    );
    let _ = writeln!(
        w,
        "    # them as {} numbers (`national`: the 0 is put back by default_country's rules).",
        how.as_str()
    );
    let _ = writeln!(w, "    numbers_as: {}", how.as_str());
}

#[derive(Debug)]
pub struct Starter<'a> {
    pub name: &'a str,
    pub kind: Kind,
    /// The modeline's schema: a file's path relative to the campaign
    /// ([`crate::init::schema`]).
    pub schema: &'a str,
    /// The patient file relative to the campaign file.
    pub file: &'a str,
    /// Written only when the file name does not tell the format.
    pub format: Option<FileFormat>,
    /// Written only when it is not a comma.
    pub delimiter: Option<u8>,
    /// Written only when it is not the first sheet.
    pub sheet: Option<&'a str>,
    /// Written only when the header is not on the first row (a title above it).
    pub header_row: Option<u32>,
    /// Written only for a CSV file that is not UTF-8 (nor UTF-16 with its mark).
    pub encoding: Option<&'a str>,
    /// Written only when phone cells are stored as numbers.
    pub numbers_as: Option<crate::campaign::NumbersAs>,
    pub phone: &'a PhoneScore,
    pub country: Option<&'a str>,
    /// Restrict calls to `country`: nearly every sampled number is from there.
    pub allowed_countries: bool,
    pub proposals: &'a [Proposal],
    /// An opt-out list found beside the patient file, relative to the campaign.
    pub opt_out: Option<&'a str>,
    /// Data rows in the file.
    pub rows: u64,
    /// Rows the guesses were made from.
    pub sampled_rows: usize,
    /// How the date columns are read, when their values need it.
    pub dates: &'a crate::init::guess::DatesGuess,
    /// The column guessed to hold each patient's language: its mapping is written
    /// commented out.
    pub language: Option<&'a LanguageGuess>,
}

/// A YAML double-quoted scalar (JSON strings are valid YAML).
fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

/// A mapping key: plain when YAML reads it as the same text, quoted otherwise.
fn key(s: &str) -> String {
    let plain = s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        );
    if plain { s.to_owned() } else { quoted(s) }
}

fn accent(kind: Kind, country: Option<&str>) -> &'static str {
    match kind {
        Kind::Conversation => {
            if country.is_none_or(|c| c == "NG") {
                CONVERSATION_ACCENTS[0]
            } else {
                CONVERSATION_ACCENTS[1]
            }
        }
        Kind::Robocall => country
            .and_then(crate::patients::countries::country_info)
            .map_or("pidgin", |c| c.accent),
    }
}

/// The campaign's text, section by section. Writing to a String cannot fail, so each
/// section ignores `writeln!`'s result.
pub fn yaml(s: &Starter<'_>) -> String {
    let mut y = String::new();
    for section in [
        header, patients, languages, variables, dates, opt_outs, schedule, delivery,
    ] {
        section(&mut y, s);
    }
    y
}

/// The file's header: the schema line, what the file is, and the campaign's identity, kind, workflow and voice.
fn header(w: &mut String, s: &Starter<'_>) {
    let _ = writeln!(w, "# yaml-language-server: $schema={}", s.schema);
    let _ = writeln!(w, "#");
    let _ = writeln!(
        w,
        "# A starter campaign written by `outreach init` from {}.",
        s.file
    );
    let _ = writeln!(
        w,
        "# Review every section (look for REPLACE), then run `outreach validate` and `outreach plan`."
    );
    let _ = writeln!(
        w,
        "# Every field is explained in the README (\"The campaign file\") and in your editor's hover."
    );
    let _ = writeln!(w);
    let _ = writeln!(w, "# The version of this file format: always 1.");
    let _ = writeln!(w, "version: 1");
    let _ = writeln!(
        w,
        "# The campaign's stable identity (lower-case letters, digits, dashes). The ledger remembers"
    );
    let _ = writeln!(
        w,
        "# who was called under this name: do not rename a campaign that has run."
    );
    let _ = writeln!(w, "name: {}", s.name);
    let _ = writeln!(
        w,
        "# What the campaign is for, in a sentence a reviewer understands."
    );
    let file_name = s.file.rsplit('/').next().unwrap_or(s.file);
    let _ = writeln!(
        w,
        "description: {}",
        quoted(&format!("Calls to the patients listed in {file_name}"))
    );
    let _ = writeln!(
        w,
        "# robocall: a recorded message; conversation: a two-way voicebot call."
    );
    let _ = writeln!(w, "kind: {}", s.kind.as_str());
    let (workflow, message) = demo_workflow(s.kind);
    let _ = writeln!(
        w,
        "# REPLACE with your workflow's id from the Intron dashboard. This one is the mock server's"
    );
    let _ = writeln!(
        w,
        "# demo {} workflow, so that `plan` works at once. Its message:",
        s.kind.as_str()
    );
    let _ = writeln!(w, "#   {message:?}");
    let _ = writeln!(w, "workflow_id: {workflow}");
    let _ = writeln!(
        w,
        "# The voice that reads the message: its accent, not its language (the words are the\n# workflow's message, written on the service). Conversation calls: pidgin or english."
    );
    let mut line = "# Robocalls:".to_owned();
    for a in crate::campaign::ROBOCALL_ACCENTS {
        if line.len() + a.len() + 1 > 92 {
            let _ = writeln!(w, "{line}");
            "#".clone_into(&mut line);
        }
        line.push(' ');
        line.push_str(a);
    }
    let _ = writeln!(w, "{line}.");
    let _ = writeln!(w, "voice:");
    let _ = writeln!(w, "  accent: {}", accent(s.kind, s.country));
    let _ = writeln!(w, "  gender: female");
    let _ = writeln!(
        w,
        "# One pass of a recurring campaign: each patient is called at most once per round, and a"
    );
    let _ = writeln!(
        w,
        "# new round calls everyone again. Without a round, once for the campaign's whole life."
    );
    let _ = writeln!(w, "# round: \"2026-12\"");
    let _ = writeln!(w);
}

/// The patient source, as guessed.
fn patients(w: &mut String, s: &Starter<'_>) {
    let _ = writeln!(
        w,
        "# Who to call: the patient file, relative to this campaign file. Guessed by `outreach init`"
    );
    let _ = writeln!(w, "# from {} sampled rows:", s.sampled_rows);
    wrapped(
        w,
        &format!(
            "phone column: {}",
            crate::init::guess::describe_phone(s.phone)
        ),
    );
    wrapped(
        w,
        &format!(
            "country: {}",
            crate::init::guess::describe_country(&s.phone.country)
        ),
    );
    let _ = writeln!(w, "patients:");
    let _ = writeln!(w, "  - file: {}", quoted(s.file));
    if let Some(f) = s.format {
        let _ = writeln!(
            w,
            "    # The file name does not tell the format, so it is named."
        );
        let _ = writeln!(w, "    format: {}", f.as_str());
    }
    if let Some(sheet) = s.sheet {
        let _ = writeln!(
            w,
            "    # The sheet with the patients (the first sheet has none)."
        );
        let _ = writeln!(w, "    sheet: {}", key(sheet));
    }
    if let Some(d) = s.delimiter {
        let _ = writeln!(
            w,
            "    # The character between columns (sniffed from the file)."
        );
        let _ = writeln!(w, "    delimiter: {}", quoted(&char::from(d).to_string()));
    }
    if let Some(row) = s.header_row {
        let _ = writeln!(
            w,
            "    # The row with the column names (the phone numbers start below it; the rows"
        );
        let _ = writeln!(w, "    # above it, such as a title, are not read).");
        let _ = writeln!(w, "    header_row: {row}");
    }
    if let Some(label) = s.encoding {
        let _ = writeln!(
            w,
            "    # The file is not UTF-8: it reads as {label}. CHECK that names are spelt right"
        );
        let _ = writeln!(
            w,
            "    # in `outreach plan`, or save the file as UTF-8 and remove this line."
        );
        let _ = writeln!(w, "    encoding: {label}");
    }
    let _ = writeln!(w, "    # The column with the phone numbers.");
    let _ = writeln!(w, "    phone_column: {}", key(&s.phone.column));
    if let Some(c) = s.country {
        let _ = writeln!(
            w,
            "    # The country of numbers written without a country code (with NG, 08031234567"
        );
        let _ = writeln!(w, "    # becomes +2348031234567).");
        let _ = writeln!(w, "    default_country: {c}");
        let _ = writeln!(
            w,
            "    # Only numbers from these countries are called{}",
            if s.allowed_countries {
                ": remove the line to allow any."
            } else {
                ". The sampled numbers come from several\n    # countries, so any is allowed."
            }
        );
        let prefix = if s.allowed_countries { "" } else { "# " };
        let _ = writeln!(w, "    {prefix}allowed_countries: [{c}]");
        numbers_as_line(w, s.numbers_as);
    } else {
        let _ = writeln!(
            w,
            "    # REPLACE: the country of numbers written without a country code (two letters)."
        );
        let _ = writeln!(w, "    # default_country: NG");
        numbers_as_line(w, s.numbers_as);
    }
    let _ = writeln!(w);
}

/// A YAML double-quoted scalar that shows every character a terminal or an editor would act
/// on as an escape: controls (newlines and tabs included), line and paragraph separators,
/// the marks that reorder text. Such a value stays on its line, inside its comment.
fn inert_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if crate::load::diagnostic::is_hidden(c) => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The most characters of a value the starter shows in a comment when it is not mapped.
const SHOWN_CHARS: usize = 40;

/// `language:` and `languages:`, commented out, when a column looks like the patients'
/// languages: the mapping of the values seen, and each language's suggested voice.
fn languages(w: &mut String, s: &Starter<'_>) {
    if let Some(g) = s.language {
        language_blocks(w, g, s.kind);
    }
}

fn language_blocks(w: &mut String, g: &LanguageGuess, kind: Kind) {
    use crate::campaign::language_names;
    let _ = writeln!(
        w,
        "# Languages (commented out): {} looks like each patient's language.",
        inert_quoted(&g.column)
    );
    for line in [
        "# To call each patient in their own language, with a workflow and voice per language,",
        "# uncomment both blocks (remove the `# ` at the start of each line), give each language",
        "# its workflow, and delete the top-level `workflow_id` and `voice` above: a campaign with",
        "# languages has none.",
        "# language:",
    ] {
        let _ = writeln!(w, "{line}");
    }
    let _ = writeln!(w, "#   column: {}", inert_quoted(&g.column));
    let _ = writeln!(
        w,
        "#   # What the column says -> a key of `languages:`, matched ignoring case and blanks"
    );
    let _ = writeln!(
        w,
        "#   # (a cell that already is a key, such as `ha`, needs no entry)."
    );
    let mapped: Vec<_> = g
        .values
        .iter()
        .filter_map(|v| v.code.map(|c| (v, c)))
        .filter(|(v, c)| !v.text.eq_ignore_ascii_case(c))
        .collect();
    let _ = writeln!(
        w,
        "#   values:{}",
        if mapped.is_empty() { " {}" } else { "" }
    );
    for (v, code) in mapped {
        let _ = writeln!(w, "#     {}: {}", inert_quoted(&v.text), key(code));
    }
    for v in g.values.iter().filter(|v| v.code.is_none()) {
        let mut text: String = v.text.chars().take(SHOWN_CHARS).collect();
        if v.text.chars().nth(SHOWN_CHARS).is_some() {
            text.push('…');
        }
        let _ = writeln!(
            w,
            "#     # {}: REPLACE   # not a language init knows: map it, or leave it to default",
            inert_quoted(&text)
        );
    }
    if g.more_values > 0 {
        let _ = writeln!(
            w,
            "#     # … and {} more: a value not listed is the default's, or skipped",
            plural(g.more_values as u64, "value")
        );
    }
    let _ = writeln!(
        w,
        "#   # The language of a row whose cell is empty or not listed; without it, such a row is"
    );
    let _ = writeln!(w, "#   # skipped (`unknown-language`).");
    let _ = writeln!(
        w,
        "#   # default: {}",
        g.languages.first().copied().unwrap_or("en")
    );
    let _ = writeln!(w, "# languages:");
    for code in &g.languages {
        let name = language_names::english_name(code).unwrap_or(code);
        let (accent, note) = match kind {
            Kind::Robocall => (
                language_names::suggested_accent(code),
                language_names::language(code).and_then(|l| l.note),
            ),
            Kind::Conversation => (
                Some(if *code == "en" { "english" } else { "pidgin" }),
                Some("conversation calls have two accents: pidgin and english"),
            ),
        };
        let _ = writeln!(w, "#   {}:   # {name}", key(code));
        if crate::render::names::for_tag(code).is_err() {
            let _ = writeln!(
                w,
                "#     names: en   # CLDR has no {name}: dates and numbers written as in English"
            );
        }
        match accent {
            Some(a) => {
                let note = note.map(|n| format!("   # {n}")).unwrap_or_default();
                let _ = writeln!(w, "#     voice: {{accent: {a}, gender: female}}{note}");
            }
            None => {
                let _ = writeln!(
                    w,
                    "#     voice: {{accent: REPLACE, gender: female}}   # no {name} accent: pick the nearest above"
                );
            }
        }
        let _ = writeln!(
            w,
            "#     # REPLACE: `workflow_id: <your {name} workflow's id>`, or declare one: `workflow: {{name: ..., message: ...}}`"
        );
    }
    let _ = writeln!(w);
}

/// `dates:`, when the sampled dates need it: a day and month that could be swapped, or
/// two-digit years (without it, such a patient is skipped, never called with a guess).
fn dates(w: &mut String, s: &Starter<'_>) {
    let g = s.dates;
    if g.order.is_none() && !g.two_digit_years {
        return;
    }
    let _ = writeln!(
        w,
        "# How dates are read. Some dates here could be read two ways (a day and a month both 12"
    );
    let _ = writeln!(
        w,
        "# or less, or a two-digit year): without this, such a patient is skipped. Check it."
    );
    let _ = writeln!(w, "dates:");
    if let Some((order, why)) = &g.order {
        let _ = writeln!(w, "  order: {}   # guessed: {why}", order.as_str());
    }
    if g.two_digit_years {
        let _ = writeln!(w, "  two_digit_years: 2000   # guessed: `27` is 2027");
    }
    let _ = writeln!(w);
}

/// Variables, defaults and tags.
fn variables(w: &mut String, s: &Starter<'_>) {
    let variables: Vec<&Proposal> = s
        .proposals
        .iter()
        .filter(|p| p.role == Role::Variable)
        .collect();
    let tags: Vec<&Proposal> = s.proposals.iter().filter(|p| p.role == Role::Tag).collect();
    let left: Vec<&Proposal> = s
        .proposals
        .iter()
        .filter(|p| matches!(p.role, Role::Left(_)))
        .collect();
    let _ = writeln!(
        w,
        "# The message's values, one per placeholder of the workflow's message: for a robocall"
    );
    let _ = writeln!(
        w,
        "# message \"Hello [name]\", give `name`. One is proposed per column: rename them after the"
    );
    let _ = writeln!(
        w,
        "# message's placeholders and delete the rest. {{{{column}}}} inserts a column, {{{{title c}}}}"
    );
    let _ = writeln!(
        w,
        "# capitalises a name, {{{{date c '%A %-d %B'}}}} writes a date as \"Thursday 3 December\"."
    );
    if variables.is_empty() {
        let _ = writeln!(w, "variables: {{}}");
    } else {
        let _ = writeln!(w, "variables:");
        for p in &variables {
            let _ = writeln!(
                w,
                "  {}: {}{}",
                key(&p.key),
                quoted(&p.template),
                empty_note(p, s)
            );
        }
    }
    for p in &left {
        if let Role::Left(why) = &p.role {
            let _ = writeln!(w, "  # `{}` left out: {why}", p.column);
        }
    }
    let _ = writeln!(w);
    let with_empties: Vec<&&Proposal> = variables
        .iter()
        .chain(tags.iter())
        .filter(|p| p.empty > 0)
        .collect();
    let _ = writeln!(
        w,
        "# Values for patients whose column is empty, by column. Without one, such a patient is"
    );
    let _ = writeln!(w, "# skipped (never called with a blank).");
    if with_empties.is_empty() {
        // The example is keyed by a column a template reads, as a default must be.
        let example = variables
            .first()
            .map_or_else(|| "clinic".to_owned(), |p| key(&p.column));
        let _ = writeln!(w, "# defaults:");
        let _ = writeln!(w, "#   {example}: REPLACE");
    } else {
        let _ = writeln!(w, "# defaults:");
        for p in with_empties {
            let _ = writeln!(
                w,
                "#   {}: REPLACE   # empty in {} of {} sampled rows",
                key(&p.column),
                p.empty,
                s.sampled_rows
            );
        }
    }
    let _ = writeln!(w);
    if s.kind == Kind::Robocall {
        let _ = writeln!(
            w,
            "# Labels sent with each robocall, to find a call again in the provider's dashboard."
        );
        if tags.is_empty() {
            let _ = writeln!(w, "# tags:");
            let _ = writeln!(w, "#   patient_id: \"{{{{patient_id}}}}\"");
        } else {
            let _ = writeln!(w, "tags:");
            for p in &tags {
                let _ = writeln!(
                    w,
                    "  {}: {}{}",
                    key(&p.key),
                    quoted(&p.template),
                    empty_note(p, s)
                );
            }
        }
        let _ = writeln!(w);
    }
}

/// Opt-outs and dedupe.
fn opt_outs(w: &mut String, s: &Starter<'_>) {
    let _ = writeln!(
        w,
        "# Opt-out lists: anyone whose number is on one is never called. A missing or unreadable"
    );
    if s.opt_out.is_some() {
        let _ = writeln!(
            w,
            "# list stops everything. This one lies beside the patient file: check it, then uncomment."
        );
    } else {
        let _ = writeln!(w, "# list stops everything. Add yours:");
    }
    let _ = writeln!(w, "# exclude:");
    let _ = writeln!(
        w,
        "#   - file: {}",
        quoted(s.opt_out.unwrap_or("opt-outs.csv"))
    );
    let _ = writeln!(w, "#     phone_column: phone");
    let _ = writeln!(w, "#     default_country: {}", s.country.unwrap_or("NG"));
    let _ = writeln!(
        w,
        "# A patient listed twice is recognised by the normalised phone number (the first row wins)"
    );
    match s.proposals.iter().find(|p| p.role == Role::Tag) {
        Some(id) => {
            let _ = writeln!(w, "# or by a column:");
            let _ = writeln!(w, "# dedupe: {}", key(&id.column));
        }
        None => {
            let _ = writeln!(w, "# or by a column such as `dedupe: patient_id`.");
        }
    }
    let _ = writeln!(w);
}

/// The calling schedule.
fn schedule(w: &mut String, s: &Starter<'_>) {
    let timezone = s
        .country
        .and_then(crate::patients::countries::country_info)
        .map(|c| c.timezone);
    let _ = writeln!(
        w,
        "# When calls may be placed, in the campaign's time zone."
    );
    let _ = writeln!(w, "schedule:");
    match (timezone, s.country) {
        (Some(tz), Some(c)) => {
            let _ = writeln!(w, "  timezone: {tz}   # for {c}");
        }
        _ => {
            let _ = writeln!(
                w,
                "  timezone: UTC   # REPLACE with your time zone, such as Africa/Lagos"
            );
        }
    }
    let _ = writeln!(
        w,
        "  # Calling windows: days (monday … sunday, weekdays, weekends, every_day) and quoted"
    );
    let _ = writeln!(w, "  # 24-hour times.");
    let _ = writeln!(w, "  windows:");
    let _ = writeln!(w, "    - days: [weekdays]");
    let _ = writeln!(w, "      from: \"09:00\"");
    let _ = writeln!(w, "      until: \"17:00\"");
    let _ = writeln!(w, "  # No call before or after these dates:");
    let _ = writeln!(w, "  # not_before: 2026-12-01");
    let _ = writeln!(w, "  # not_after: 2026-12-20");
    let _ = writeln!(w);
}

/// Delivery limits and retries.
fn delivery(w: &mut String, s: &Starter<'_>) {
    let _ = writeln!(
        w,
        "# How calls go out. Cautious values to start with: raise them once a small run went well."
    );
    let _ = writeln!(w, "delivery:");
    let _ = writeln!(
        w,
        "  batch_size: 20            # patients per request (1-100)"
    );
    let _ = writeln!(
        w,
        "  requests_per_second: 2    # the provider documents {PROVIDER_REQUESTS_PER_SECOND} for conversation calls"
    );
    let _ = writeln!(
        w,
        "  concurrency: 1            # requests waiting for an answer at once"
    );
    let _ = writeln!(
        w,
        "  max_calls: {:<14} # the most calls one run places: the file's {} today",
        s.rows.max(1),
        plural(s.rows, "row")
    );
    let _ = writeln!(w, "  retry:");
    let _ = writeln!(
        w,
        "    attempts: 1             # calls per patient in all: 1 is no retry; 2 calls once more"
    );
    let _ = writeln!(
        w,
        "    delay: 2h               # the wait before calling again"
    );
    let _ = writeln!(
        w,
        "    outcomes: [no_answer]   # which outcomes are called again"
    );
    let _ = writeln!(
        w,
        "  in_doubt: hold            # a call of unknown fate after a crash: report it, never resend"
    );
}

/// A comment item (`#   text`), wrapped at 92 columns (continuation lines indented).
fn wrapped(w: &mut String, text: &str) {
    let mut line = "#  ".to_owned();
    for word in text.split(' ') {
        if line.len() + word.len() + 1 > 92 && line.len() > 5 {
            let _ = writeln!(w, "{line}");
            "#    ".clone_into(&mut line);
        }
        line.push(' ');
        line.push_str(word);
    }
    let _ = writeln!(w, "{line}");
}

fn empty_note(p: &Proposal, s: &Starter<'_>) -> String {
    let kind = match p.kind {
        ColumnKind::Name => "   # a name",
        ColumnKind::Date => "   # a date",
        ColumnKind::Id | ColumnKind::Text => "",
    };
    if p.empty > 0 {
        format!(
            "   # empty in {} of {} sampled rows: see defaults",
            p.empty, s.sampled_rows
        )
    } else {
        kind.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_workflows_are_the_mocks() {
        let (id, message) = demo_workflow(Kind::Robocall);
        assert_eq!(id, "9b643eb4-0799-4761-bd34-9580eb315aaf");
        assert!(message.contains("[name]"), "{message}");
        let (id, message) = demo_workflow(Kind::Conversation);
        assert_eq!(id, "550e8400-e29b-41d4-a716-446655440000");
        assert!(!message.is_empty());
    }

    #[test]
    fn keys_are_quoted_when_yaml_would_read_them_otherwise() {
        assert_eq!(key("first_name"), "first_name");
        assert_eq!(key("y"), "\"y\"");
        assert_eq!(key("Off"), "\"Off\"");
        assert_eq!(key("First Name"), "\"First Name\"");
        assert_eq!(key("2nd"), "\"2nd\"");
    }

    /// The commented blocks, un-commented and read by the campaign loader.
    fn uncommented(block: &str) -> serde_json::Value {
        let start = block.find("# language:\n").expect("a language block");
        let mut text = String::new();
        for l in block[start..].lines() {
            text.push_str(l.strip_prefix("# ").unwrap_or(l));
            text.push('\n');
        }
        let (doc, diags) = crate::load::document::load(&text);
        assert!(diags.is_empty(), "{diags:?}\n{text}");
        doc.expect("a document").value
    }

    fn guessed(header: &str, cells: &[&str]) -> LanguageGuess {
        let sample = crate::init::guess::Sample {
            header: vec!["tel".to_owned(), header.to_owned()],
            rows: cells
                .iter()
                .map(|c| vec!["0803".to_owned(), (*c).to_owned()])
                .collect(),
            ..crate::init::guess::Sample::default()
        };
        match crate::init::language::guess(&sample, 0) {
            crate::init::language::Found::Column(g) => g,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_language_blocks_map_each_value_and_suggest_accents() {
        // Found by its values (7 of 8), whatever its name says.
        let g = guessed(
            "Lang\n# x: \"y\"",
            &[
                "Hausa", "HAU", "Yoruba", "English", "ha", "Tiv", "Oromo", "Other",
            ],
        );
        let mut w = String::new();
        language_blocks(&mut w, &g, Kind::Robocall);
        assert!(
            w.lines().all(|l| l.is_empty() || l.starts_with('#')),
            "all commented:\n{w}"
        );
        for line in [
            "#     \"Hausa\": ha\n",
            "#     \"HAU\": ha\n",
            "#     \"Yoruba\": yo\n",
            "#     \"English\": en\n",
            "#   ha:   # Hausa\n#     voice: {accent: hausa, gender: female}\n",
            "#   yo:   # Yoruba\n#     voice: {accent: yoruba, gender: female}\n",
            "#     voice: {accent: pidgin, gender: female}   # robocall accents have no `english`",
            "#     voice: {accent: REPLACE, gender: female}   # no Oromo accent",
            "#     # \"Other\": REPLACE   # not a language init knows",
            "#   # default: ha\n",
            "REPLACE: `workflow_id: <your Hausa workflow's id>`",
        ] {
            assert!(w.contains(line), "missing {line:?} in\n{w}");
        }
        assert!(
            !w.contains("\"ha\": ha"),
            "a cell that is a key needs no entry:\n{w}"
        );
        let v = uncommented(&w);
        assert_eq!(v["language"]["column"], "Lang\n# x: \"y\"");
        assert_eq!(v["language"]["values"]["HAU"], "ha");
        assert_eq!(
            v["language"].get("default"),
            None,
            "default stays a comment"
        );
        let keys: Vec<&String> = v["languages"].as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["ha", "yo", "en", "tiv", "om"],
            "the most frequent first"
        );
        assert_eq!(v["languages"]["tiv"]["voice"]["accent"], "tiv");
        assert_eq!(v["languages"]["tiv"]["names"], "en", "CLDR has no Tiv");
        assert_eq!(v["languages"]["ha"].get("names"), None, "CLDR has Hausa");
        assert_eq!(v["languages"]["ha"].get("workflow_id"), None);

        let mut w = String::new();
        language_blocks(&mut w, &g, Kind::Conversation);
        assert!(
            w.contains("#   en:   # English\n#     voice: {accent: english"),
            "{w}"
        );
        assert!(
            w.contains("#   ha:   # Hausa\n#     voice: {accent: pidgin"),
            "{w}"
        );
    }

    #[test]
    fn hostile_values_stay_inside_the_comment() {
        let long = "x".repeat(10_000);
        let cells = [
            "Nigerian\nPidgin",
            "Nigerian\u{2028}Pidgin",
            "Yoruba",
            "Yoruba",
            "Igbo",
            "a\n  language: {column: phone}",
            "# x",
            "\"quoted\": yes",
            "key: value",
            "bell\u{7}\u{1b}[31m\u{85}\u{202e}",
            &long,
        ];
        // 5 of 11 are languages: not found by values, so the column is named like one.
        let g = guessed("Language\n", &cells);
        let mut w = String::new();
        language_blocks(&mut w, &g, Kind::Robocall);
        assert!(
            w.lines().all(|l| l.is_empty() || l.starts_with('#')),
            "all commented:\n{w}"
        );
        assert!(
            !w.chars()
                .any(|c| crate::load::diagnostic::is_hidden(c) && c != '\n'),
            "{w:?}"
        );
        assert!(w.len() < 4_000, "the long cell is cut: {} bytes", w.len());
        assert!(w.contains("#     \"Nigerian\\nPidgin\": pcm\n"), "{w}");
        assert!(w.contains("#     \"Nigerian\\u2028Pidgin\": pcm\n"), "{w}");
        assert!(
            w.contains("#     # \"bell\\u0007\\u001B[31m\\u0085\\u202E\": REPLACE"),
            "{w}"
        );
        let v = uncommented(&w);
        let values = v["language"]["values"].as_object().unwrap();
        let mut mapped: Vec<(&str, &str)> = values
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
            .collect();
        mapped.sort_unstable();
        assert_eq!(
            mapped,
            [
                ("Igbo", "ig"),
                ("Nigerian\nPidgin", "pcm"),
                ("Nigerian\u{2028}Pidgin", "pcm"),
                ("Yoruba", "yo")
            ],
            "only languages are mapped, each value read back as written"
        );
        assert_eq!(v["language"]["column"], "Language\n");
        assert_eq!(
            v.as_object().unwrap().len(),
            2,
            "nothing but the two blocks: {v}"
        );
    }

    #[test]
    fn accents_suit_the_country_and_kind() {
        assert_eq!(accent(Kind::Robocall, Some("NG")), "pidgin");
        assert_eq!(accent(Kind::Robocall, Some("KE")), "swahili");
        assert_eq!(accent(Kind::Robocall, Some("FR")), "pidgin");
        assert_eq!(accent(Kind::Conversation, Some("GH")), "english");
        assert_eq!(accent(Kind::Conversation, None), "pidgin");
        for c in crate::patients::countries::LIKELY_COUNTRIES {
            assert!(
                crate::campaign::ROBOCALL_ACCENTS.contains(&c.accent),
                "{}",
                c.code
            );
        }
    }
}
