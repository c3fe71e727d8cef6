//! How the campaign reads the dates in its patient files (`dates:`): the order of day and
//! month in dates written with numbers only, the century of two-digit years, and the columns
//! that hold spreadsheet date numbers. Without them, a date that could be read two ways is
//! refused for its row, never guessed ([`crate::render::dates`]).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How dates in patient files are read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dates {
    /// The order of a date written with numbers only (`03/04/2027`): `dmy` (day first, as
    /// in Nigeria and the UK), `mdy` (month first) or `ymd`. Without it, a date whose day and
    /// month could be swapped is refused for its row.
    #[serde(default)]
    #[schemars(with = "DateOrder")]
    pub order: Option<DateOrder>,

    /// The first year of the hundred years a two-digit year falls in: with `2000`, `27` is
    /// 2027; with `1950`, `49` is 2049 and `50` is 1950. Without it, a date with a two-digit
    /// year is refused for its row.
    #[serde(default)]
    #[schemars(range(min = 1900, max = 2100), example = 2000)]
    pub two_digit_years: Option<u16>,

    /// Columns whose values are spreadsheet date numbers (`46402` is 15 January 2027), as a
    /// CSV exported from Excel writes a date cell: `{"Next Visit": excel_serial}`.
    #[serde(default)]
    #[schemars(example = example_columns())]
    #[expect(
        clippy::zero_sized_map_values,
        reason = "one kind of date column today; the map is the file's shape, column to kind"
    )]
    pub columns: BTreeMap<String, DateColumn>,
}

fn example_columns() -> serde_json::Value {
    serde_json::json!({"Next Visit": "excel_serial"})
}

/// The order of day, month and year in a date written with numbers only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DateOrder {
    /// Day, month, year: `03/04/2027` is 3 April 2027.
    Dmy,
    /// Month, day, year: `03/04/2027` is 4 March 2027.
    Mdy,
    /// Year, month, day: `27/04/03` is 3 April 2027 (with `two_digit_years`).
    Ymd,
}

impl DateOrder {
    pub fn as_str(self) -> &'static str {
        match self {
            DateOrder::Dmy => "dmy",
            DateOrder::Mdy => "mdy",
            DateOrder::Ymd => "ymd",
        }
    }
}

/// What a date column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DateColumn {
    /// Spreadsheet date numbers: days since 30 December 1899, with the time of day as the
    /// fraction (`46402.375` is 15 January 2027 09:00). Dates written as text are read too.
    ExcelSerial,
}
