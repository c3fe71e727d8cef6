//! The values of a campaign's `list_columns:` for one call's row, kept with the call at
//! write-ahead (SQLite 8, Postgres 6) for `report --list` and `report --by`, and removed by
//! `purge` with the other patient data.
//!
//! Stored as the text of a JSON object, its members in the order the campaign lists them
//! (read back in that order, not sorted). Bounded both ways: each name and value is cut to
//! [`ListValues::MAX_CHARS`] characters and at most [`ListValues::MAX_COLUMNS`] are kept when
//! written, and a stored text longer than [`ListValues::MAX_TEXT`] bytes, or not such an
//! object, is refused when read.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

/// Column names and values, in the campaign's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListValues(Vec<(String, String)>);

/// No values: for calls recorded without list columns (tests, a reconcile check's calls).
pub static NO_LIST_VALUES: ListValues = ListValues(Vec::new());

/// Why stored list values were refused.
#[derive(Debug, thiserror::Error)]
pub enum BadListValues {
    #[error("the list values are {0} bytes long, more than outreach ever writes")]
    TooLong(usize),
    #[error("the list values are not a JSON object of texts")]
    NotAnObject,
}

impl ListValues {
    /// At most this many columns are kept with a call.
    pub const MAX_COLUMNS: usize = 20;
    /// Each name and each value is cut to this many characters.
    pub const MAX_CHARS: usize = 200;
    /// The longest stored text read back: every column at its longest, each character
    /// escaped as `\uXXXX` (6 bytes), with room for the quotes and separators.
    pub const MAX_TEXT: usize = Self::MAX_COLUMNS * (2 * Self::MAX_CHARS * 6 + 8) + 2;

    /// The values of `columns` from `cell` (a row's cell by column name, `None` when the row
    /// has no such column: kept as empty text), in the order given, bounded.
    pub fn from_row<'a>(
        columns: impl IntoIterator<Item = &'a String>,
        mut cell: impl FnMut(&str) -> Option<String>,
    ) -> ListValues {
        ListValues(
            columns
                .into_iter()
                .take(Self::MAX_COLUMNS)
                .map(|c| {
                    let value = cell(c).unwrap_or_default();
                    (cut(c), cut(value.trim()))
                })
                .collect(),
        )
    }

    /// Whether there are none (a campaign without `list_columns`, or a purged call).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of `column`, if it is kept.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(c, _)| c == column)
            .map(|(_, v)| v.as_str())
    }

    /// The columns and values, in the campaign's order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(c, v)| (c.as_str(), v.as_str()))
    }

    /// The stored text; `None` when there are none (stored as NULL).
    pub(crate) fn to_stored(&self) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        // A map of strings always serialises.
        serde_json::to_string(self).ok()
    }

    /// Reads the stored text back; NULL reads as none.
    pub(crate) fn from_stored(text: Option<&str>) -> Result<ListValues, BadListValues> {
        let Some(text) = text else {
            return Ok(ListValues::default());
        };
        if text.len() > Self::MAX_TEXT {
            return Err(BadListValues::TooLong(text.len()));
        }
        let values: ListValues =
            serde_json::from_str(text).map_err(|_| BadListValues::NotAnObject)?;
        if values.0.len() > Self::MAX_COLUMNS {
            return Err(BadListValues::NotAnObject);
        }
        Ok(values)
    }
}

/// `text` cut to [`ListValues::MAX_CHARS`] characters.
fn cut(text: &str) -> String {
    text.chars().take(ListValues::MAX_CHARS).collect()
}

impl Serialize for ListValues {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (c, v) in &self.0 {
            map.serialize_entry(c, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for ListValues {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct InOrder;
        impl<'de> Visitor<'de> for InOrder {
            type Value = ListValues;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of column names and texts")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ListValues, A::Error> {
                let mut out = Vec::new();
                while let Some((c, v)) = map.next_entry::<String, String>()? {
                    if out.len() == ListValues::MAX_COLUMNS {
                        return Err(de::Error::custom("too many list columns"));
                    }
                    out.push((c, v));
                }
                Ok(ListValues(out))
            }
        }
        d.deserialize_map(InOrder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_the_campaign_order_and_are_bounded() {
        let columns: Vec<String> = ["ward", "clinic", "absent"].map(str::to_owned).to_vec();
        let long = "x".repeat(500);
        let v = ListValues::from_row(&columns, |c| match c {
            "ward" => Some(" 3 ".to_owned()),
            "clinic" => Some(long.clone()),
            _ => None,
        });
        let text = v.to_stored().expect("some values");
        assert!(text.starts_with(r#"{"ward":"3","clinic":"xx"#), "{text}");
        let back = ListValues::from_stored(Some(&text)).expect("reads back");
        assert_eq!(back, v);
        assert_eq!(
            back.iter().map(|(c, _)| c).collect::<Vec<_>>(),
            ["ward", "clinic", "absent"]
        );
        assert_eq!(back.get("clinic").map(|c| c.chars().count()), Some(200));
        assert_eq!(back.get("absent"), Some(""));
        assert_eq!(ListValues::default().to_stored(), None);
        assert_eq!(
            ListValues::from_stored(None).expect("null"),
            ListValues::default()
        );
    }

    #[test]
    fn hostile_stored_values_are_refused() {
        let huge = format!(r#"{{"a":"{}"}}"#, "y".repeat(ListValues::MAX_TEXT));
        assert!(matches!(
            ListValues::from_stored(Some(&huge)),
            Err(BadListValues::TooLong(_))
        ));
        for bad in ["[1,2]", r#"{"a":1}"#, "not json", r#"{"a":"b""#] {
            assert!(
                matches!(
                    ListValues::from_stored(Some(bad)),
                    Err(BadListValues::NotAnObject)
                ),
                "{bad}"
            );
        }
        let many: Vec<String> = (0..30).map(|i| format!("\"c{i}\":\"v\"")).collect();
        let many = format!("{{{}}}", many.join(","));
        assert!(ListValues::from_stored(Some(&many)).is_err());
    }
}
