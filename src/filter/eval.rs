//! A filter tested on a row: cells read as the type the check gave their column, `and` and
//! `or` read from the left and only as far as needed.

use std::cmp::Ordering;

use jiff::civil::Date;

use super::Filter;
use super::syntax::{Expr, Kind, Node, Op};
use crate::render::dates::DateRules;

/// Why a row cannot be tested: a cell the filter needs is empty or cannot be read as its
/// type. The words never repeat the cell (it comes from a patient file).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RowProblem(pub String);

/// A filter bound to a source's header.
#[derive(Debug, Clone)]
pub struct Bound<'f> {
    filter: &'f Filter,
    /// The position of each of the filter's columns in the header.
    index: Vec<Option<usize>>,
}

#[derive(Debug, Clone, Copy)]
enum Val<'a> {
    Text(&'a str),
    Number(f64),
    Date(Date),
}

impl<'f> Bound<'f> {
    pub(super) fn new(filter: &'f Filter, header: &[String]) -> Self {
        Bound {
            filter,
            index: filter
                .columns
                .iter()
                .map(|c| header.iter().position(|h| h == c))
                .collect(),
        }
    }

    /// Whether the row passes; an error when a cell it needs cannot be read (the row is
    /// then left out, never let through by a guess).
    pub fn test(&self, row: &csv::StringRecord, dates: &DateRules) -> Result<bool, RowProblem> {
        let cx = Cx {
            bound: self,
            row,
            dates,
        };
        cx.condition(&self.filter.expr)
    }
}

struct Cx<'b, 'f, 'r> {
    bound: &'b Bound<'f>,
    row: &'r csv::StringRecord,
    dates: &'b DateRules,
}

impl<'r> Cx<'_, '_, 'r> {
    fn name(&self, column: usize) -> &str {
        self.bound
            .filter
            .columns
            .get(column)
            .map_or("?", String::as_str)
    }

    fn cell(&self, column: usize) -> Result<&'r str, RowProblem> {
        let at = self.bound.index.get(column).copied().flatten();
        match at {
            Some(i) => Ok(self.row.get(i).unwrap_or("").trim()),
            None => Err(RowProblem(format!(
                "the filter reads `{}`, which this source has no column for",
                self.name(column)
            ))),
        }
    }

    fn condition(&self, expr: &Expr) -> Result<bool, RowProblem> {
        match &expr.node {
            Node::Or(a, b) => Ok(self.condition(a)? || self.condition(b)?),
            Node::And(a, b) => Ok(self.condition(a)? && self.condition(b)?),
            Node::Not(a) => Ok(!self.condition(a)?),
            Node::IsEmpty { column, negated } => Ok(self.cell(*column)?.is_empty() != *negated),
            Node::Compare(op, a, b) => {
                let ord = compare(self.value(a)?, self.value(b)?);
                Ok(match op {
                    Op::Eq => ord == Some(Ordering::Equal),
                    Op::Ne => ord != Some(Ordering::Equal),
                    Op::Lt => ord == Some(Ordering::Less),
                    Op::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
                    Op::Gt => ord == Some(Ordering::Greater),
                    Op::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
                })
            }
            Node::Between(v, low, high) => {
                let v = self.value(v)?;
                let low = compare(v, self.value(low)?);
                let high = compare(v, self.value(high)?);
                Ok(matches!(low, Some(Ordering::Greater | Ordering::Equal))
                    && matches!(high, Some(Ordering::Less | Ordering::Equal)))
            }
            Node::In {
                value,
                list,
                negated,
            } => {
                let v = self.value(value)?;
                let mut found = false;
                for item in list {
                    if compare(v, self.value(item)?) == Some(Ordering::Equal) {
                        found = true;
                        break;
                    }
                }
                Ok(found != *negated)
            }
            // The check lets only conditions here.
            Node::Column(..) | Node::Text(_) | Node::Number(_) | Node::Today | Node::Shift(..) => {
                Err(RowProblem("the filter is not a condition".to_owned()))
            }
        }
    }

    fn value<'e>(&self, expr: &'e Expr) -> Result<Val<'e>, RowProblem>
    where
        'r: 'e,
    {
        match &expr.node {
            Node::Text(t) => Ok(Val::Text(t)),
            Node::Number(n) => Ok(Val::Number(*n)),
            Node::Today => Ok(Val::Date(self.dates.today())),
            Node::Shift(date, days) => {
                let Val::Date(d) = self.value(date)? else {
                    return Err(RowProblem("a length of time is added to a date".to_owned()));
                };
                d.checked_add(jiff::Span::new().days(*days))
                    .map(Val::Date)
                    .map_err(|_| {
                        RowProblem("the date moved by the filter is out of range".to_owned())
                    })
            }
            Node::Column(column, kind) => {
                let name = self.name(*column);
                let cell = self.cell(*column)?;
                match kind {
                    Kind::Text | Kind::Unknown => Ok(Val::Text(cell)),
                    Kind::Number => {
                        if cell.is_empty() {
                            return Err(RowProblem(format!(
                                "the filter reads `{name}` as a number, and it is empty on this row"
                            )));
                        }
                        cell.parse::<f64>()
                            .ok()
                            .filter(|n| n.is_finite())
                            .map(Val::Number)
                            .ok_or_else(|| {
                                RowProblem(format!(
                                    "the filter reads `{name}` as a number, and it is not one on this row (write digits, with `.` for decimals)"
                                ))
                            })
                    }
                    Kind::Date => {
                        if cell.is_empty() {
                            return Err(RowProblem(format!(
                                "the filter reads `{name}` as a date, and it is empty on this row (`{name} is empty or …` lets such rows be tested)"
                            )));
                        }
                        self.dates
                            .read(cell, Some(name))
                            .map(|m| Val::Date(m.date))
                            .map_err(|message| RowProblem(format!("the filter: {message}")))
                    }
                }
            }
            Node::Or(..)
            | Node::And(..)
            | Node::Not(_)
            | Node::IsEmpty { .. }
            | Node::Compare(..)
            | Node::Between(..)
            | Node::In { .. } => Err(RowProblem("a condition is not a value".to_owned())),
        }
    }
}

/// How two values of one type compare; `None` across types (the check refuses those).
fn compare(a: Val<'_>, b: Val<'_>) -> Option<Ordering> {
    match (a, b) {
        (Val::Text(a), Val::Text(b)) => Some(a.cmp(b)),
        (Val::Number(a), Val::Number(b)) => a.partial_cmp(&b),
        (Val::Date(a), Val::Date(b)) => Some(a.cmp(&b)),
        _ => None,
    }
}
