//! `outreach init`: a patient file → a starter campaign beside it, checked at once.
//!
//! Reads the file's header and first rows ([`crate::init::guess`]), says what it guessed and how
//! sure it is, confirms each guess on a terminal (unless `--yes` or a flag decided it),
//! writes the commented campaign ([`crate::init::starter`]), then validates and plans it with the
//! same code and reporters as `validate` and `plan` (printed plans masked).

pub mod guess;
pub mod language;
pub mod layout;
mod patient_file;
pub mod schema;
pub mod starter;

use std::io::{BufRead, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::Outcome;
use crate::campaign::{FileFormat, Kind};
use crate::plan;
use crate::report::plan::PlanView;
use crate::settings::InitSettings;
use crate::settings::formats::PlanFormat;
use crate::validate;
use guess::{PhoneScore, Proposal, Role, Sample};
use patient_file::PatientFile;
use schema::SchemaFile;
use starter::Starter;

/// How many tries an answer gets before `init` gives up.
const TRIES: usize = 3;

/// Runs `outreach init`. `input` answers the questions asked on a terminal.
pub fn run(
    s: &InitSettings,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    // Flags first: a mistake there is reported before any file is read.
    let name = match &s.name {
        Some(n) if guess::valid_name(n) => n.clone(),
        Some(n) => bail!(
            "--name {n}: a campaign name is lower-case letters, digits and dashes (at most 64), such as {}",
            guess::campaign_name(&s.patients)
        ),
        None => guess::campaign_name(&s.patients),
    };
    let given_country = match &s.country {
        Some(c) => {
            let upper = c.to_ascii_uppercase();
            if crate::patients::phone::country(&upper).is_none() {
                bail!("--country {c}: not a two-letter country code such as NG");
            }
            Some(upper)
        }
        None => None,
    };
    if !s.patients.is_file() {
        bail!("{}: no such patient file", s.patients.display());
    }
    // The file its user names is read wherever it is; the campaign written says whether
    // the other commands may read it there (below).
    if let Some(folder) = s
        .patients
        .canonicalize()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
    {
        crate::patients::location::allow_outside(vec![folder]);
    }
    // Refuse early when the file is known to exist (checked again after the questions,
    // which may change the name).
    refuse_existing(&target_path(s, &name), s.force)?;

    let mut file = PatientFile::read(&s.patients, s.phone_column.as_deref(), s.sheet.as_deref())?;
    file.describe(out)?;

    // The phone column and country: given, or guessed from the values.
    let phone = match &s.phone_column {
        Some(col) => given_column(&file.sample, col, given_country.as_deref())?,
        None => guess::guess_phone_column(&file.sample, given_country.as_deref())
            .map_err(|tried| no_phone_column(&s.patients, &tried))?,
    };
    let mut choices = Choices {
        phone,
        name,
        kind: s.kind.unwrap_or_default(),
    };
    report_guesses(s, &choices, out)?;
    if s.interactive {
        confirm(s, &file.sample, &mut choices, input, out)?;
    } else if !s.yes
        && (s.phone_column.is_none() || s.country.is_none() || s.name.is_none() || s.kind.is_none())
    {
        writeln!(
            out,
            "  (no terminal to confirm on: guesses accepted; --phone-column, --country, --name and --kind choose, --yes silences this)"
        )?;
    }
    file.check_numeric_phones(
        &choices.phone.column,
        choices.phone.country.country.as_deref(),
        out,
    )?;
    let others = guess::other_phone_columns(&file.sample, &choices.phone);
    let proposals = guess::propose(
        &file.sample,
        choices.phone.index,
        &others,
        choices.kind == Kind::Robocall,
    );
    report_proposals(&proposals, out)?;
    let language = language::guess(&file.sample, choices.phone.index);
    language::report(&language, out)?;
    let language = match language {
        language::Found::Column(g) => Some(g),
        language::Found::Unread(_) | language::Found::Nothing => None,
    };

    let (target, schema_note) = write_campaign(s, &file, &choices, &proposals, language.as_ref())?;
    writeln!(out, "Wrote {}", target.display())?;
    if let Some(note) = schema_note {
        writeln!(out, "{note}")?;
    }
    if let Some(note) = outside_note(&target, &s.patients) {
        writeln!(out, "{note}")?;
    }
    writeln!(out)?;
    check(s, &target, out)
}

/// What the campaign will say: given by flags, guessed, or answered.
struct Choices {
    phone: PhoneScore,
    name: String,
    kind: Kind,
}

/// Asks to confirm each guess no flag decided.
fn confirm(
    s: &InitSettings,
    sample: &Sample,
    c: &mut Choices,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "Press Enter to accept a guess, or type another answer."
    )?;
    let given_country = s.country.as_ref().map(|c| c.to_ascii_uppercase());
    if s.phone_column.is_none() {
        let col = ask(input, out, "Phone column", &c.phone.column, |a| {
            if sample.header.iter().any(|h| h == a) {
                Ok(a.to_owned())
            } else {
                Err(format!(
                    "no column `{a}`; the columns: {}",
                    sample.header.join(", ")
                ))
            }
        })?;
        if col != c.phone.column {
            c.phone = given_column(sample, &col, given_country.as_deref())?;
            writeln!(out, "  phone column: {}", guess::describe_phone(&c.phone))?;
            writeln!(
                out,
                "  country: {}",
                guess::describe_country(&c.phone.country)
            )?;
            warn_if_few_valid(&c.phone, out)?;
        }
    }
    if s.country.is_none() {
        let current = c.phone.country.country.clone().unwrap_or_default();
        let country = ask(input, out, "Country of local numbers", &current, |a| {
            let upper = a.to_ascii_uppercase();
            if upper.is_empty() || crate::patients::phone::country(&upper).is_some() {
                Ok(upper)
            } else {
                Err(format!("`{a}` is not a two-letter country code such as NG"))
            }
        })?;
        if !country.is_empty() && Some(&country) != c.phone.country.country.as_ref() {
            c.phone = given_column(sample, &c.phone.column.clone(), Some(&country))?;
            writeln!(
                out,
                "  country: {}",
                guess::describe_country(&c.phone.country)
            )?;
            warn_if_few_valid(&c.phone, out)?;
        }
    }
    if s.name.is_none() {
        c.name = ask(input, out, "Campaign name", &c.name, |a| {
            if guess::valid_name(a) {
                Ok(a.to_owned())
            } else {
                Err("lower-case letters, digits and dashes, at most 64".to_owned())
            }
        })?;
    }
    if s.kind.is_none() {
        let answer = ask(
            input,
            out,
            "Kind (robocall or conversation)",
            c.kind.as_str(),
            |a| {
                parse_kind(a)
                    .map(|k| k.as_str().to_owned())
                    .ok_or_else(|| "robocall or conversation".to_owned())
            },
        )?;
        c.kind = parse_kind(&answer).unwrap_or_default();
    }
    Ok(())
}

/// Writes the starter campaign (never over a file without --force), and the schema its
/// modeline names when that is missing; returns the campaign's path and what to say of the
/// schema.
fn write_campaign(
    s: &InitSettings,
    file: &PatientFile,
    c: &Choices,
    proposals: &[Proposal],
    language: Option<&language::LanguageGuess>,
) -> anyhow::Result<(PathBuf, Option<String>)> {
    let target = target_path(s, &c.name);
    refuse_existing(&target, s.force)?;
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // Paths in the campaign are relative to it, between resolved paths.
    let dir_abs = dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", dir.display()))?;
    let patients_abs = file
        .path
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", file.path.display()))?;
    let from_campaign = |p: &Path| slashes(&relative(&dir_abs, p));
    let schema_file = SchemaFile::locate(s.schema.as_deref(), &dir, &dir_abs)?;
    let schema = from_campaign(&schema_file.path);
    let opt_out = opt_out_beside(&patients_abs).map(|p| from_campaign(&p));
    let file_rel = from_campaign(&patients_abs);

    let country = c.phone.country.country.clone();
    let dates = crate::init::guess::dates_guess(&file.sample, proposals, country.as_deref());
    let text = starter::yaml(&Starter {
        name: &c.name,
        kind: c.kind,
        schema: &schema,
        file: &file_rel,
        format: file.named_format.is_none().then_some(file.format),
        delimiter: file.delimiter.filter(|&d| d != b','),
        sheet: file
            .sheet
            .as_ref()
            .filter(|sheet| !sheet.first)
            .map(|sheet| sheet.name.as_str()),
        header_row: file.source.header_row,
        encoding: file.source.encoding.as_deref(),
        numbers_as: file.source.numbers_as,
        phone: &c.phone,
        country: country.as_deref(),
        allowed_countries: country.as_ref().is_some_and(|k| mostly_from(&c.phone, k)),
        proposals,
        opt_out: opt_out.as_deref(),
        rows: file.sample.total_rows,
        sampled_rows: file.sample.rows.len(),
        dates: &dates,
        language,
    });
    write_file(&target, &text, s.force)?;
    let ensured = schema_file.ensure()?;
    Ok((target, schema_file.said(ensured)))
}

/// What to say when the patient file is outside the written campaign's repository, where
/// validate, plan and apply do not read it unless told to.
fn outside_note(target: &Path, patients: &Path) -> Option<String> {
    use crate::patients::location::{Refusal, inside_repository};
    let dir = target.parent().map(|p| {
        if p.as_os_str().is_empty() {
            Path::new(".")
        } else {
            p
        }
    })?;
    let folder = patients.canonicalize().ok()?.parent()?.to_path_buf();
    let place = match inside_repository(dir, patients).err()? {
        Refusal::Outside { root } => {
            format!("outside the campaign's repository ({})", root.display())
        }
        Refusal::InGit => "inside a .git folder".to_owned(),
    };
    Some(format!(
        "Note: the patient file {} is {place}: validate, plan and apply read patient files only from inside the repository. Copy it in (and change `file:` in {}), or run them with `--allow-source-outside {}`.",
        patients.display(),
        target.display(),
        folder.display()
    ))
}

/// Validates and plans the campaign written, as `validate` and `plan` would (masked).
fn check(s: &InitSettings, target: &Path, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let checked = validate::check_file(target);
    crate::report::validation::reporter(crate::settings::formats::ValidateFormat::Human, s.color)
        .validation(std::slice::from_ref(&checked.report), out)?;
    let Some(campaign) = checked.campaign else {
        return Ok(Outcome::Problems);
    };
    writeln!(out)?;
    let mut overview = plan::Overview::new(5);
    plan::plan(&campaign, target, &mut overview)
        .with_context(|| format!("planning {}", target.display()))?;
    crate::report::plan::write(
        PlanFormat::Human,
        &PlanView {
            campaign: &campaign,
            campaign_path: target,
            overview: &overview,
            unmask: false,
            saved_to: None,
            message_unchecked: Some(
                "the workflow is the mock's demo; set your own workflow_id and variables",
            ),
            workflow: None,
            declared: None,
            languages: &[],
            changes: None,
            // A starter's dates are the user's to set: when it would call is not the point.
            timing: None,
        },
        out,
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "Next: edit {} (look for REPLACE: the workflow, the message's variables), then `outreach plan {}`.",
        target.display(),
        target.display()
    )?;
    Ok(Outcome::Success)
}

/// A file beside the patient file whose name says it is an opt-out list (`opt-outs.csv`,
/// `Opt Out List.xlsx`), to suggest under `exclude`.
fn opt_out_beside(patients: &Path) -> Option<PathBuf> {
    let dir = patients.parent()?;
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p != patients && p.is_file())
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            let squashed: String = name.chars().filter(char::is_ascii_alphanumeric).collect();
            (squashed.contains("optout") || squashed.contains("donotcall"))
                && FileFormat::from_path(&name).is_some()
        })
        .collect();
    found.sort();
    found.into_iter().next()
}

/// Where the campaign goes: --out, or DIR/<name>.yaml.
fn target_path(s: &InitSettings, name: &str) -> PathBuf {
    let file = format!("{name}.yaml");
    match &s.out {
        Some(out) => out.clone(),
        // `x.yaml` rather than `./x.yaml` in messages.
        None if s.dir == Path::new(".") => PathBuf::from(file),
        None => s.dir.join(file),
    }
}

fn refuse_existing(target: &Path, force: bool) -> anyhow::Result<()> {
    if target.exists() && !force {
        bail!(
            "{} already exists: pass --force to overwrite it, or --out to write elsewhere",
            target.display()
        );
    }
    Ok(())
}

fn parse_kind(s: &str) -> Option<Kind> {
    match s.trim().to_ascii_lowercase().as_str() {
        "robocall" => Some(Kind::Robocall),
        "conversation" => Some(Kind::Conversation),
        _ => None,
    }
}

/// The score of a column the user named.
fn given_column(
    sample: &Sample,
    column: &str,
    country: Option<&str>,
) -> anyhow::Result<PhoneScore> {
    if column.trim().is_empty() {
        bail!(
            "--phone-column: give the name of a column (its columns: {})",
            sample.header.join(", ")
        );
    }
    let Some(index) = sample.header.iter().position(|h| h == column) else {
        bail!(
            "--phone-column {column}: the file has no such column (its columns: {})",
            sample.header.join(", ")
        );
    };
    Ok(guess::score_column(
        column,
        index,
        &sample.values(index),
        country,
    ))
}

fn no_phone_column(patients: &Path, tried: &[PhoneScore]) -> anyhow::Error {
    let mut tried: Vec<&PhoneScore> = tried.iter().collect();
    tried.sort_by_key(|s| s.index);
    let list = tried
        .iter()
        .map(|s| format!("`{}` ({} of {} valid)", s.column, s.valid, s.sampled))
        .collect::<Vec<_>>()
        .join(", ");
    anyhow::anyhow!(
        "{}: no column looks like phone numbers (at least {}% of a column's values must be valid numbers); tried {list}. Name it with --phone-column, and the country of local numbers with --country",
        patients.display(),
        guess::MIN_PHONE_PERCENT
    )
}

/// Whether most valid sampled numbers (4 in 5) are from `country`: then the starter campaign
/// allows only that country, and `plan` lists the others for the user to decide.
fn mostly_from(phone: &PhoneScore, country: &str) -> bool {
    let g = &phone.country;
    let foreign: usize = g
        .by_country
        .iter()
        .filter(|(c, _)| c != country)
        .map(|(_, n)| n)
        .sum();
    phone.valid > 0 && foreign * 5 <= phone.valid
}

fn report_guesses(s: &InitSettings, c: &Choices, out: &mut dyn Write) -> std::io::Result<()> {
    let (phone, name, kind) = (&c.phone, &c.name, c.kind);
    let how = |given: bool| if given { "given" } else { "guessed" };
    writeln!(
        out,
        "  phone column ({}): {}",
        how(s.phone_column.is_some()),
        guess::describe_phone(phone)
    )?;
    writeln!(
        out,
        "  country ({}): {}",
        how(s.country.is_some()),
        guess::describe_country(&phone.country)
    )?;
    warn_if_few_valid(phone, out)?;
    writeln!(
        out,
        "  campaign name ({}): {name}",
        if s.name.is_some() {
            "given"
        } else {
            "from the file name"
        }
    )?;
    writeln!(
        out,
        "  kind ({}): {}",
        if s.kind.is_some() { "given" } else { "default" },
        kind.as_str()
    )
}

/// One line each for the variables, the tags and the columns left out.
fn report_proposals(proposals: &[Proposal], out: &mut dyn Write) -> std::io::Result<()> {
    let keys = |role: &Role| {
        proposals
            .iter()
            .filter(|p| &p.role == role)
            .map(|p| match p.kind {
                guess::ColumnKind::Name => format!("{} (a name)", p.key),
                guess::ColumnKind::Date => format!("{} (a date)", p.key),
                guess::ColumnKind::Id | guess::ColumnKind::Text => p.key.clone(),
            })
            .collect::<Vec<_>>()
    };
    let variables = keys(&Role::Variable);
    writeln!(
        out,
        "  variables (one per column; keep those the message uses): {}",
        if variables.is_empty() {
            "none".to_owned()
        } else {
            variables.join(", ")
        }
    )?;
    let tags = keys(&Role::Tag);
    if !tags.is_empty() {
        writeln!(out, "  tags: {}", tags.join(", "))?;
    }
    for p in proposals {
        if let Role::Left(why) = &p.role {
            writeln!(out, "  left out: `{}` ({why})", p.column)?;
        }
    }
    Ok(())
}

fn warn_if_few_valid(phone: &PhoneScore, out: &mut dyn Write) -> std::io::Result<()> {
    if phone.percent() < 80 {
        writeln!(
            out,
            "  warning: only {}% of the sampled phone numbers are valid; `plan` lists the others",
            phone.percent()
        )?;
    }
    Ok(())
}

/// Asks a question on the terminal. Enter (or the end of input) accepts `default`; a wrong
/// answer is explained and asked again.
fn ask(
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    question: &str,
    default: &str,
    check: impl Fn(&str) -> Result<String, String>,
) -> anyhow::Result<String> {
    for _ in 0..TRIES {
        write!(out, "{question} [{default}]: ")?;
        out.flush()?;
        let mut line = String::new();
        if input.read_line(&mut line)? == 0 {
            writeln!(out)?;
            return Ok(default.to_owned());
        }
        let answer = line.trim();
        if answer.is_empty() {
            return Ok(default.to_owned());
        }
        match check(answer) {
            Ok(v) => return Ok(v),
            Err(why) => writeln!(out, "  {why}")?,
        }
    }
    bail!("no usable answer to \"{question}\" after {TRIES} tries")
}

/// Writes the campaign; without `force`, never over an existing file (even one created since
/// the check above).
fn write_file(path: &Path, text: &str, force: bool) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    crate::private::no_link(&mut options).write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|e| {
        if let Err(link) = crate::private::refuse_link(path) {
            anyhow::Error::new(link).context(format!("cannot write {}", path.display()))
        } else if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!(
                "{} already exists: pass --force to overwrite it",
                path.display()
            )
        } else {
            anyhow::Error::new(e).context(format!("cannot write {}", path.display()))
        }
    })?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.flush())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The path of `to` from the directory `from` (both absolute and resolved).
fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component> = from.components().collect();
    let to_parts: Vec<Component> = to.components().collect();
    let common = from
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut rel = PathBuf::new();
    for _ in common..from.len() {
        rel.push("..");
    }
    for c in &to_parts[common..] {
        rel.push(c.as_os_str());
    }
    rel
}

/// A path with `/` between its parts, as campaign files write them on every system.
fn slashes(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(dir: &Path, patients: PathBuf) -> InitSettings {
        InitSettings {
            dir: dir.to_path_buf(),
            patients,
            phone_column: None,
            sheet: None,
            country: None,
            name: None,
            kind: None,
            out: None,
            schema: None,
            yes: false,
            force: false,
            interactive: true,
            color: false,
        }
    }

    #[test]
    fn on_a_terminal_each_guess_is_confirmed_or_changed() {
        let dir = tempfile::tempdir().unwrap();
        let patients = dir.path().join("list.csv");
        std::fs::write(
            &patients,
            "name,mobile_no,alt\nAda,08031234567,0241234567\nTolu,08051234567,0201234567\n",
        )
        .unwrap();
        let s = settings(dir.path(), patients);
        // Phone column: a wrong answer, then `alt`; country: Enter (GH, re-guessed for
        // `alt`); name: changed; kind: conversation.
        let mut input: &[u8] = b"phone\nalt\n\nghana-list\nconversation\n";
        let mut out = Vec::new();
        let outcome = run(&s, &mut input, &mut out).unwrap();
        let printed = String::from_utf8(out).unwrap();
        assert_eq!(outcome, Outcome::Success, "{printed}");
        assert!(printed.contains("Phone column [mobile_no]: "), "{printed}");
        assert!(printed.contains("no column `phone`"), "{printed}");
        assert!(
            printed.contains("Country of local numbers [GH]: "),
            "{printed}"
        );
        assert!(printed.contains("Campaign name [list]: "), "{printed}");
        assert!(!printed.contains("no terminal"), "{printed}");
        let text = std::fs::read_to_string(dir.path().join("ghana-list.yaml")).unwrap();
        assert!(text.contains("phone_column: alt\n"), "{text}");
        assert!(text.contains("default_country: GH\n"), "{text}");
        assert!(text.contains("kind: conversation\n"), "{text}");
        assert!(
            text.contains("`mobile_no` left out: it holds phone numbers too"),
            "{text}"
        );
    }

    #[test]
    fn with_yes_nothing_is_asked() {
        let dir = tempfile::tempdir().unwrap();
        let patients = dir.path().join("list.json");
        std::fs::write(&patients, r#"[{"tel": "+254712345678", "n": "Wanjiru"}]"#).unwrap();
        let mut s = settings(dir.path(), patients);
        s.yes = true;
        s.interactive = false;
        let mut out = Vec::new();
        let outcome = run(&s, &mut &b""[..], &mut out).unwrap();
        let printed = String::from_utf8(out).unwrap();
        assert_eq!(outcome, Outcome::Success, "{printed}");
        assert!(!printed.contains("]: "), "no question asked: {printed}");
        let text = std::fs::read_to_string(dir.path().join("list.yaml")).unwrap();
        assert!(text.contains("timezone: Africa/Nairobi"), "{text}");
        assert!(text.contains("accent: swahili"), "{text}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 24,
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// Whatever the columns are called, the campaign written validates (exit 1 "should
        /// not happen"): names YAML or handlebars would misread, brackets, quotes, dots.
        #[test]
        fn any_header_gives_a_valid_campaign(
            headers in proptest::collection::vec(
                "[ -~]{0,10}|\\PC{0,6}|yes|No|on|~|null|date|title|this|else|phone_number|outreach_key|é ü",
                1..5,
            ),
            conversation in proptest::bool::ANY,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let patients = dir.path().join("p.csv");
            let mut w = csv::Writer::from_path(&patients).unwrap();
            let mut header = vec!["tel".to_owned()];
            header.extend(headers.iter().cloned());
            w.write_record(&header).unwrap();
            for (i, phone) in ["08031234567", "0805 123 4567", "+2347065550192"].iter().enumerate() {
                let mut row = vec![(*phone).to_owned()];
                row.extend(headers.iter().enumerate().map(|(j, _)| match (i + j) % 3 {
                    0 => "2026-12-03".to_owned(),
                    1 => "ada obi".to_owned(),
                    _ => String::new(),
                }));
                w.write_record(&row).unwrap();
            }
            w.flush().unwrap();
            drop(w);
            let mut s = settings(dir.path(), patients);
            s.yes = true;
            s.interactive = false;
            s.kind = Some(if conversation { Kind::Conversation } else { Kind::Robocall });
            let mut out = Vec::new();
            let outcome = run(&s, &mut &b""[..], &mut out);
            let printed = String::from_utf8_lossy(&out);
            let text = std::fs::read_to_string(dir.path().join("p.yaml")).unwrap_or_default();
            proptest::prop_assert!(
                matches!(outcome, Ok(Outcome::Success)),
                "{outcome:?}\n{printed}\n{text}"
            );
        }
    }

    #[test]
    fn relative_paths() {
        let r = |a: &str, b: &str| slashes(&relative(Path::new(a), Path::new(b)));
        assert_eq!(
            r("/w/campaigns", "/w/campaigns/patients/x.csv"),
            "patients/x.csv"
        );
        assert_eq!(
            r("/w/campaigns/new", "/w/schemas/s.json"),
            "../../schemas/s.json"
        );
        assert_eq!(r("/w", "/w/x.csv"), "x.csv");
    }

    #[test]
    fn asks_until_an_answer_fits() {
        let mut out = Vec::new();
        let mut input: &[u8] = b"maybe\nconversation\n";
        let k = ask(&mut input, &mut out, "Kind", "robocall", |a| {
            parse_kind(a)
                .map(|k| k.as_str().to_owned())
                .ok_or_else(|| "robocall or conversation".to_owned())
        })
        .unwrap();
        assert_eq!(k, "conversation");
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("Kind [robocall]: "), "{text}");
        assert!(text.contains("robocall or conversation"), "{text}");

        let mut input: &[u8] = b"\n";
        let k = ask(&mut input, &mut Vec::new(), "Kind", "robocall", |a| {
            Ok(a.to_owned())
        });
        assert_eq!(k.unwrap(), "robocall", "Enter accepts the guess");
        let mut input: &[u8] = b"";
        let k = ask(&mut input, &mut Vec::new(), "Kind", "robocall", |a| {
            Ok(a.to_owned())
        });
        assert_eq!(k.unwrap(), "robocall", "end of input accepts the guess");
        let mut input: &[u8] = b"x\ny\nz\n";
        assert!(
            ask(&mut input, &mut Vec::new(), "Q", "d", |_| Err(
                "no".to_owned()
            ))
            .is_err()
        );
    }
}
