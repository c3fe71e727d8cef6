//! Spreadsheet sources (xlsx, ods and their kin): the workbook opened with its unpacked size
//! checked, the sheet chosen, its header found on its row, and its cells as text.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use calamine::{Data, Range};

use super::phone;
use super::source::{Row, RowError, SourceError, open_file};
use crate::campaign::Source;

/// The most a spreadsheet may unpack to (the sum of its parts' sizes): a sheet of 100,000
/// patients is a few tens of MiB; a zip bomb of 1.5 KB unpacks to gigabytes.
pub const MAX_SPREADSHEET_UNPACKED: u64 = 200 * 1024 * 1024;

/// The most cells a sheet's used area (from its first to its last cell) may hold: the
/// reader allocates the area whole, and one cell at the far corner (XFD1048576) of an
/// otherwise empty sheet is 17 billion of them.
pub const MAX_SHEET_CELLS: u64 = 5_000_000;

/// A workbook that is a regular file and unpacks to at most [`MAX_SPREADSHEET_UNPACKED`]
/// (counted as it inflates, see [`super::unpack`]).
pub type Workbook = calamine::Sheets<BufReader<File>>;

/// Opens a spreadsheet (xlsx, xlsm, xlsb, ods, xls), its unpacked size checked first.
pub fn open_workbook(path: &Path) -> Result<Workbook, SourceError> {
    let unreadable =
        |e: &dyn std::fmt::Display| SourceError::Unreadable(path.to_path_buf(), e.to_string());
    let mut file = open_file(path)?;
    let zipped = {
        let mut magic = [0u8; 4];
        file.read_exact(&mut magic).is_ok() && magic == *b"PK\x03\x04"
    };
    io::Seek::rewind(&mut file).map_err(|e| unreadable(&e))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if zipped {
        super::unpack::check(BufReader::new(&file), ext.as_deref() == Some("ods")).map_err(
            |p| match p {
                super::unpack::Problem::Unreadable(m) => unreadable(&m),
                super::unpack::Problem::TooLarge(m) => SourceError::TooLarge(path.to_path_buf(), m),
            },
        )?;
        io::Seek::rewind(&mut file).map_err(|e| unreadable(&e))?;
    }
    let reader = BufReader::new(file);
    let workbook = match ext.as_deref() {
        Some("xls" | "xla") => calamine::open_workbook_from_rs(reader)
            .map(calamine::Sheets::Xls)
            .map_err(|e| unreadable(&e)),
        Some("xlsb") => calamine::open_workbook_from_rs(reader)
            .map(calamine::Sheets::Xlsb)
            .map_err(|e| unreadable(&e)),
        Some("ods") => calamine::open_workbook_from_rs(reader)
            .map(calamine::Sheets::Ods)
            .map_err(|e| unreadable(&e)),
        _ if zipped => calamine::open_workbook_from_rs(reader)
            .map(calamine::Sheets::Xlsx)
            .map_err(|e| unreadable(&e)),
        _ => calamine::open_workbook_from_rs(reader)
            .map(calamine::Sheets::Xls)
            .map_err(|e| unreadable(&e)),
    }?;
    Ok(workbook)
}

/// A sheet's cells, once its used area is known to be within [`MAX_SHEET_CELLS`] (xlsx and
/// xlsm, whose cells can be counted before the area is allocated; ods sheets are counted
/// before the workbook is opened, by [`super::unpack`]).
pub fn sheet_range(
    workbook: &mut Workbook,
    name: &str,
    path: &Path,
) -> Result<calamine::Range<calamine::Data>, SourceError> {
    use calamine::Reader;
    let unreadable =
        |e: &dyn std::fmt::Display| SourceError::Unreadable(path.to_path_buf(), e.to_string());
    if let calamine::Sheets::Xlsx(xlsx) = workbook {
        let mut cells = xlsx
            .worksheet_cells_reader(name)
            .map_err(|e| unreadable(&e))?;
        let (mut rows, mut cols) = ((u32::MAX, 0u32), (u32::MAX, 0u32));
        let mut count = 0u64;
        while let Some(cell) = cells.next_cell().map_err(|e| unreadable(&e))? {
            let (r, c) = cell.get_position();
            rows = (rows.0.min(r), rows.1.max(r));
            cols = (cols.0.min(c), cols.1.max(c));
            count += 1;
            let area = u64::from(rows.1 - rows.0 + 1) * u64::from(cols.1 - cols.0 + 1);
            if count > MAX_SHEET_CELLS || area > MAX_SHEET_CELLS {
                return Err(SourceError::TooLarge(
                    path.to_path_buf(),
                    format!(
                        "the sheet `{name}` spans {} rows by {} columns, more than the {MAX_SHEET_CELLS} cells a sheet may (a cell far from the others, such as one at the sheet's last row or column?)",
                        rows.1 - rows.0 + 1,
                        cols.1 - cols.0 + 1
                    ),
                ));
            }
        }
    }
    workbook.worksheet_range(name).map_err(|e| unreadable(&e))
}

/// The sheet a source reads: the one it names, or the first.
fn sheet_name(
    workbook: &Workbook,
    path: &Path,
    sheet: Option<&str>,
) -> Result<String, SourceError> {
    use calamine::Reader;
    let names = workbook.sheet_names();
    match sheet {
        Some(s) if names.iter().any(|n| n == s) => Ok(s.to_owned()),
        Some(s) => Err(SourceError::NoSheet {
            path: path.to_path_buf(),
            sheet: s.to_owned(),
            available: names,
        }),
        None => names
            .first()
            .cloned()
            .ok_or_else(|| SourceError::NoHeader(path.to_path_buf())),
    }
}

fn is_blank(cells: &[Data]) -> bool {
    cells.iter().all(|c| match c {
        Data::Empty => true,
        Data::String(s) => s.trim().is_empty(),
        _ => false,
    })
}

/// Where a sheet's rows start: the index in `range` of the header (the first non-blank row
/// numbered `header_row` or later, as the spreadsheet numbers its rows) and of the first row
/// after the `skip_rows` non-blank rows below it.
pub fn layout(range: &Range<Data>, header_row: u32, skip_rows: u32) -> Option<(usize, usize)> {
    let first = range.start().map_or(0, |(r, _)| r) + 1;
    let mut rows = range
        .rows()
        .enumerate()
        .filter(|(_, cells)| !is_blank(cells));
    let (header, _) = rows.find(|(i, _)| u64::from(first) + *i as u64 >= u64::from(header_row))?;
    let data = match skip_rows {
        0 => header + 1,
        n => rows
            .nth(n as usize - 1)
            .map_or(range.height(), |(i, _)| i + 1),
    };
    Some((header, data))
}

/// The text of a header cell: numbers as written, without a decimal point for whole ones.
fn header_text(cell: &Data) -> String {
    match cell {
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        other => other.to_string().trim().to_owned(),
    }
}

pub(super) fn columns(path: &Path, source: &dyn Source) -> Result<Vec<String>, SourceError> {
    let mut workbook = open_workbook(path)?;
    let name = sheet_name(&workbook, path, source.sheet())?;
    let range = sheet_range(&mut workbook, &name, path)?;
    let (header, _) = layout(&range, source.header_row(), source.skip_rows())
        .ok_or_else(|| no_header(path, source))?;
    Ok(range
        .rows()
        .nth(header)
        .map(|cells| cells.iter().map(header_text).collect())
        .unwrap_or_default())
}

fn no_header(path: &Path, source: &dyn Source) -> SourceError {
    match source.header_row() {
        1 => SourceError::NoHeader(path.to_path_buf()),
        row => SourceError::HeaderNotFound(path.to_path_buf(), row),
    }
}

/// A sheet's rows below its header, as text. A phone cell stored as a number is read as
/// `numbers_as` says, or flagged (its leading `0` or `+` is lost) when it says nothing.
pub(super) fn rows(
    path: &Path,
    source: &dyn Source,
    header: &[String],
) -> Result<Vec<Result<Row, RowError>>, SourceError> {
    let mut workbook = open_workbook(path)?;
    let name = sheet_name(&workbook, path, source.sheet())?;
    let range = sheet_range(&mut workbook, &name, path)?;
    let (_, data) = layout(&range, source.header_row(), source.skip_rows())
        .ok_or_else(|| no_header(path, source))?;
    let phone = header.iter().position(|h| h == source.phone_column());
    let numbers_as = source.numbers_as();
    let country = source.default_country();
    let first_row = u64::from(range.start().map_or(0, |(r, _)| r)) + 1;
    Ok(range
        .rows()
        .enumerate()
        .skip(data)
        .filter(|(_, cells)| cells.iter().any(|c| !matches!(c, Data::Empty)))
        .map(|(i, cells)| {
            let numeric = phone.and_then(|p| cells.get(p)).and_then(whole_number);
            let mut text: Vec<String> = (0..header.len())
                .map(|j| match cells.get(j) {
                    None | Some(Data::Empty) => String::new(),
                    Some(Data::Float(f)) if f.fract() == 0.0 && f.abs() < 1e15 => {
                        format!("{f:.0}")
                    }
                    Some(Data::DateTime(d)) => {
                        excel_date(d.as_f64()).unwrap_or_else(|| d.to_string())
                    }
                    Some(c) => c.to_string().trim().to_owned(),
                })
                .collect();
            let stored_as_number = phone
                .and_then(|p| cells.get(p))
                .is_some_and(|c| matches!(c, Data::Float(_) | Data::Int(_)));
            let mut numeric_phone = false;
            match (numbers_as, phone, numeric) {
                (Some(how), Some(p), Some(digits)) => {
                    text[p] = phone::from_number_cell(&digits, how, country);
                }
                // A number that is not whole or not positive stays as written: not a phone.
                (Some(_), ..) => {}
                (None, ..) => numeric_phone = stored_as_number,
            }
            Ok(Row {
                number: first_row + i as u64,
                cells: text.into(),
                numeric_phone,
            })
        })
        .collect())
}

/// The digits of a cell stored as a whole, positive number.
fn whole_number(cell: &Data) -> Option<String> {
    match cell {
        Data::Int(n) if *n > 0 => Some(n.to_string()),
        Data::Float(f) if f.fract() == 0.0 && *f > 0.0 && *f < 1e15 => Some(format!("{f:.0}")),
        _ => None,
    }
}

/// An Excel date serial (days since 1899-12-30) as `YYYY-MM-DD`, with its time of day
/// (`YYYY-MM-DDTHH:MM:SS`) when the cell has one: an appointment's time matters as much as
/// its date.
fn excel_date(serial: f64) -> Option<String> {
    if !(0.0..2_958_466.0).contains(&serial) {
        return None;
    }
    #[expect(
        clippy::cast_possible_truncation,
        reason = "bounded by the range check above"
    )]
    let mut days = serial.floor() as i64;
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a fraction of a day in seconds, 0 to 86400"
    )]
    let mut seconds = ((serial - serial.floor()) * 86_400.0).round() as i64;
    if seconds >= 86_400 {
        // Rounded up to the next midnight.
        days += 1;
        seconds = 0;
    }
    let date = jiff::civil::date(1899, 12, 30)
        .checked_add(jiff::Span::new().days(days))
        .ok()?;
    if seconds == 0 {
        return Some(date.to_string());
    }
    let part = |n: i64| i8::try_from(n).ok();
    let time = jiff::civil::Time::new(
        part(seconds / 3600)?,
        part(seconds / 60 % 60)?,
        part(seconds % 60)?,
        0,
    )
    .ok()?;
    Some(date.to_datetime(time).to_string())
}

#[cfg(test)]
mod tests {
    use super::{excel_date, layout};
    use calamine::{Data, Range};

    fn sheet(rows: &[&[&str]], first_row: u32) -> Range<Data> {
        let width = rows.iter().map(|r| r.len()).max().unwrap_or(1);
        let last_row = (first_row..).nth(rows.len() - 1).unwrap();
        let last_col = (0u32..).nth(width - 1).unwrap();
        let mut range = Range::new((first_row, 0), (last_row, last_col));
        for (r, cells) in (first_row..).zip(rows) {
            for (c, cell) in (0u32..).zip(cells.iter()) {
                if !cell.is_empty() {
                    range.set_value((r, c), Data::String((*cell).to_owned()));
                }
            }
        }
        range
    }

    #[test]
    fn the_header_is_on_its_row_and_skip_rows_counts_non_blank_rows_below_it() {
        let register = sheet(
            &[
                &["Gwale PHC - ANC Register", ""],
                &["", ""],
                &["name", "phone"],
                &["", ""],
                &["(full name)", "(mobile)"],
                &["Amina", "08031234567"],
            ],
            0,
        );
        // The default: the first non-blank row, the title.
        assert_eq!(layout(&register, 1, 0), Some((0, 1)));
        assert_eq!(layout(&register, 3, 0), Some((2, 3)));
        // A blank row at `header_row` is passed over; the units line is skipped past the
        // blank row between.
        assert_eq!(layout(&register, 2, 1), Some((2, 5)));
        // Past the last row: no header.
        assert_eq!(layout(&register, 7, 0), None);
        // More rows skipped than there are: no data.
        assert_eq!(layout(&register, 3, 9), Some((2, 6)));
        // Row numbers are the sheet's, where its used area starts lower down.
        let lower = sheet(&[&["name", "phone"], &["Amina", "08031234567"]], 4);
        assert_eq!(layout(&lower, 1, 0), Some((0, 1)));
        assert_eq!(layout(&lower, 5, 0), Some((0, 1)));
        assert_eq!(layout(&lower, 6, 0), Some((1, 2)));
    }

    #[test]
    fn xlsx_datetime_cells_keep_their_time_of_day() {
        assert_eq!(excel_date(46_082.0).as_deref(), Some("2026-03-01"));
        let half_past_two = 46_082.0 + 14.5 / 24.0;
        assert_eq!(
            excel_date(half_past_two).as_deref(),
            Some("2026-03-01T14:30:00")
        );
        // A time a hair before midnight rounds to the next day, with no time left over.
        assert_eq!(excel_date(46_082.999_999_9).as_deref(), Some("2026-03-02"));
        assert_eq!(excel_date(-1.0), None);
        // And the date reader reads the time back (what a template's date helpers show).
        let rules = crate::render::dates::DateRules::strict_today();
        let moment = rules.read("2026-03-01T14:30:00", None).unwrap();
        assert_eq!(moment.time, Some(jiff::civil::time(14, 30, 0, 0)));
    }
}
