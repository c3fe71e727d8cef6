//! The patient file `init` starts from: how to read it (format, delimiter, encoding, sheet,
//! header row, numbers stored as numbers), each choice said aloud, and its first rows.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use super::guess::{self, Sample};
use super::layout::{self, SheetChoice, TextChoice};
use crate::campaign::{FileFormat, NumbersAs, PatientSource};
use crate::report::words::plural;

/// A patient file as read: how to read it and its first rows.
pub(super) struct PatientFile {
    pub(super) path: PathBuf,
    /// The format the file name tells, if it does.
    pub(super) named_format: Option<FileFormat>,
    pub(super) format: FileFormat,
    /// CSV only: the delimiter sniffed.
    pub(super) delimiter: Option<u8>,
    /// CSV only: how its text is read.
    pub(super) text: Option<TextChoice>,
    /// Spreadsheets only: the sheet read and where its header is.
    pub(super) sheet: Option<SheetChoice>,
    pub(super) source: PatientSource,
    pub(super) sample: Sample,
}

impl PatientFile {
    pub(super) fn read(
        path: &Path,
        phone_column: Option<&str>,
        sheet: Option<&str>,
    ) -> anyhow::Result<Self> {
        let cannot = || format!("cannot read the patient file {}", path.display());
        let file = path
            .to_str()
            .with_context(|| format!("{}: the file name is not UTF-8", path.display()))?
            .to_owned();
        let named_format = FileFormat::from_path(&file);
        let format = match named_format {
            Some(f) => f,
            None => guess::sniff_format(path).with_context(cannot)?,
        };
        let spreadsheet = matches!(format, FileFormat::Xlsx | FileFormat::Ods);
        if sheet.is_some() && !spreadsheet {
            bail!(
                "--sheet: {} is not a spreadsheet (xlsx, ods), so it has no sheets",
                path.display()
            );
        }
        let text = (format == FileFormat::Csv)
            .then(|| layout::csv_text(path))
            .transpose()
            .with_context(cannot)?;
        let encoding = text.and_then(TextChoice::encoding);
        let delimiter = if format == FileFormat::Csv {
            Some(guess::sniff_delimiter(path, encoding).with_context(cannot)?)
        } else {
            None
        };
        let csv_header_row = match delimiter {
            Some(d) => layout::csv_header_row(path, d, encoding).with_context(cannot)?,
            None => None,
        };
        let sheet = if spreadsheet {
            let Some(found) = layout::pick_sheet(path, sheet).with_context(cannot)? else {
                bail!(
                    "{}: no sheet has a header and a patient row",
                    path.display()
                );
            };
            Some(found)
        } else {
            None
        };
        let source = PatientSource {
            file: Some(file),
            format: Some(format),
            sheet: sheet.as_ref().map(|s| s.name.clone()),
            delimiter: delimiter.map(|d| char::from(d).to_string()),
            header_row: sheet.as_ref().and_then(|s| s.header_row).or(csv_header_row),
            skip_rows: None,
            encoding: text.and_then(TextChoice::label).map(str::to_owned),
            inline: None,
            phone_column: phone_column.unwrap_or("phone").to_owned(),
            default_country: None,
            numbers_as: None,
            allowed_countries: Vec::new(),
            timezone: None,
            filter: None,
        };
        let sample = guess::read_sample(&source, Path::new("")).with_context(cannot)?;
        if sample.rows.is_empty() {
            bail!("{}: no patient rows to learn from", path.display());
        }
        Ok(PatientFile {
            path: path.to_path_buf(),
            named_format,
            format,
            delimiter,
            text,
            sheet,
            source,
            sample,
        })
    }

    pub(super) fn describe(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "Read {} ({}, {}, {}{})",
            self.path.display(),
            self.format.as_str(),
            plural(self.sample.header.len() as u64, "column"),
            plural(self.sample.total_rows, "row"),
            match self.delimiter {
                Some(b',') | None => String::new(),
                Some(b'\t') => ", tab-separated".to_owned(),
                Some(d) => format!(", separated by `{}`", char::from(d)),
            }
        )?;
        match self.text {
            Some(TextChoice::AsItIs(e)) if e != encoding_rs::UTF_8 => {
                writeln!(out, "  text: {} (its byte-order mark says so)", e.name())?;
            }
            Some(TextChoice::Named(_, label)) => writeln!(
                out,
                "  text: not UTF-8; it reads as {label}, so the campaign says `encoding: {label}`: check that the names below look right"
            )?,
            _ => {}
        }
        if let Some(sheet) = &self.sheet {
            let why = match (sheet.first, sheet.phones) {
                (_, 0) => "",
                (true, _) => " (the sheet with the phone numbers)",
                (false, _) => " (the sheet with the phone numbers; the first sheet has none)",
            };
            writeln!(out, "  sheet: `{}`{why}", sheet.name)?;
        }
        if let Some(row) = self.source.header_row {
            writeln!(
                out,
                "  header: row {row}, the row above the first phone numbers (the rows above it are not read: a title?)"
            )?;
        }
        if self.sample.unreadable_rows > 0 {
            writeln!(
                out,
                "  warning: {} could not be read; `outreach plan` lists them",
                plural(self.sample.unreadable_rows, "row")
            )?;
        }
        Ok(())
    }

    /// Numbers typed into a spreadsheet lose their leading 0 or +, and `plan` skips them
    /// unless the source says how to read them: re-reads the sample knowing the phone column
    /// and, when some are numbers, reads them both ways and keeps the one under which more
    /// sampled numbers are valid (`national` needs `country`). Says which, or warns when
    /// neither wins.
    pub(super) fn check_numeric_phones(
        &mut self,
        column: &str,
        country: Option<&str>,
        out: &mut dyn Write,
    ) -> anyhow::Result<()> {
        if self.sheet.is_none() {
            return Ok(());
        }
        let cannot = || format!("cannot read the patient file {}", self.path.display());
        column.clone_into(&mut self.source.phone_column);
        self.sample = guess::read_sample(&self.source, Path::new("")).with_context(cannot)?;
        let numeric = self.sample.numeric_phones;
        if numeric == 0 {
            return Ok(());
        }
        let mut tried = Vec::new();
        for how in [NumbersAs::National, NumbersAs::International] {
            if how == NumbersAs::National && country.is_none() {
                continue;
            }
            let mut source = self.source.clone();
            source.numbers_as = Some(how);
            source.default_country = country.map(str::to_owned);
            let sample = guess::read_sample(&source, Path::new("")).with_context(cannot)?;
            let index = sample.header.iter().position(|h| h == column);
            let country_id = country.and_then(crate::patients::phone::country);
            let valid = index.map_or(0, |i| {
                sample
                    .values(i)
                    .iter()
                    .filter(|v| crate::patients::phone::normalise(v, country_id, &[]).is_ok())
                    .count()
            });
            tried.push((how, valid, sample));
        }
        tried.sort_by_key(|t| std::cmp::Reverse(t.1));
        match tried.as_slice() {
            [(how, best, _), rest @ ..]
                if *best > 0 && rest.first().is_none_or(|(_, next, _)| next < best) =>
            {
                let how = *how;
                writeln!(
                    out,
                    "  phone cells: {numeric} of {} sampled are stored as numbers (their leading 0 or + is lost); read as {} numbers, {best} of the sampled numbers are valid, so the campaign says `numbers_as: {}`",
                    self.sample.rows.len(),
                    how.as_str(),
                    how.as_str()
                )?;
                self.source.numbers_as = Some(how);
                if let Some((_, _, sample)) = tried.into_iter().next() {
                    self.sample = sample;
                }
            }
            _ => writeln!(
                out,
                "  warning: {numeric} of {} sampled phone cells are stored as numbers, which loses a leading 0 or +; `plan` skips them: set `numbers_as: national` (with `default_country`) or `numbers_as: international` on the source, or format the column as text in the spreadsheet",
                self.sample.rows.len()
            )?,
        }
        Ok(())
    }
}
