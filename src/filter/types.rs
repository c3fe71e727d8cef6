//! The check of a filter's types, before any row: each column gets the type it is read as,
//! and what cannot be compared is refused with its span.

use super::FilterError;
use super::syntax::{Expr, Kind, Node};

/// What a part of the expression is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Condition,
    /// A column not yet given a type by what it is compared with.
    Column,
    Text,
    Number,
    Date,
}

impl Ty {
    fn of(kind: Kind) -> Ty {
        match kind {
            Kind::Unknown => Ty::Column,
            Kind::Text => Ty::Text,
            Kind::Number => Ty::Number,
            Kind::Date => Ty::Date,
        }
    }

    fn kind(self) -> Kind {
        match self {
            Ty::Text => Kind::Text,
            Ty::Number => Kind::Number,
            Ty::Date => Kind::Date,
            Ty::Condition | Ty::Column => Kind::Unknown,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Ty::Condition => "a condition",
            Ty::Column => "a column",
            Ty::Text => "text",
            Ty::Number => "a number",
            Ty::Date => "a date",
        }
    }
}

fn type_error(message: String, expr: &Expr) -> FilterError {
    FilterError::Type {
        message,
        span: expr.span.clone(),
    }
}

/// Checks `expr` as a condition, giving every column its type.
pub(super) fn check(expr: &mut Expr) -> Result<(), FilterError> {
    condition(expr)
}

fn condition(expr: &mut Expr) -> Result<(), FilterError> {
    let ty = check_node(expr)?;
    if ty == Ty::Condition {
        Ok(())
    } else {
        Err(type_error(
            format!(
                "this is {}, not a condition: compare it, such as `age >= 18` or `status == \"active\"`",
                ty.name()
            ),
            expr,
        ))
    }
}

fn check_node(expr: &mut Expr) -> Result<Ty, FilterError> {
    let span_expr = Expr {
        node: Node::Today,
        span: expr.span.clone(),
    };
    match &mut expr.node {
        Node::Or(a, b) | Node::And(a, b) => {
            condition(a)?;
            condition(b)?;
            Ok(Ty::Condition)
        }
        Node::Not(a) => {
            condition(a)?;
            Ok(Ty::Condition)
        }
        Node::IsEmpty { .. } => Ok(Ty::Condition),
        Node::Column(_, kind) => Ok(Ty::of(*kind)),
        Node::Text(_) => Ok(Ty::Text),
        Node::Number(_) => Ok(Ty::Number),
        Node::Today => Ok(Ty::Date),
        Node::Shift(date, _) => {
            let ty = check_node(date)?;
            match ty {
                Ty::Date => Ok(Ty::Date),
                Ty::Column => {
                    settle(date, Kind::Date);
                    Ok(Ty::Date)
                }
                other => Err(type_error(
                    format!(
                        "a length of time is added to a date (`today + 3d`), not to {}",
                        other.name()
                    ),
                    date,
                )),
            }
        }
        Node::Compare(op, a, b) => {
            let ordering = op.ordering();
            let ty = unify(&mut [a.as_mut(), b.as_mut()], &span_expr)?;
            if ordering && ty == Ty::Text {
                return Err(type_error(
                    "text is only compared with `==`, `!=` or `in`: write numbers without quotes (`age >= 18`) and dates with `today` (`next_visit >= today`)".to_owned(),
                    &span_expr,
                ));
            }
            Ok(Ty::Condition)
        }
        Node::Between(v, low, high) => {
            let ty = unify(&mut [v.as_mut(), low.as_mut(), high.as_mut()], &span_expr)?;
            match ty {
                Ty::Number | Ty::Date => Ok(Ty::Condition),
                Ty::Text => Err(type_error(
                    "`between` takes numbers or dates, not text".to_owned(),
                    &span_expr,
                )),
                _ => Err(type_error(
                    "`between` needs a number or a date on one side, to know how to read the columns: `next_visit between today and today + 3d`".to_owned(),
                    &span_expr,
                )),
            }
        }
        Node::In { value, list, .. } => {
            let mut all: Vec<&mut Expr> = Vec::with_capacity(list.len() + 1);
            all.push(value.as_mut());
            all.extend(list.iter_mut());
            unify(&mut all, &span_expr)?;
            Ok(Ty::Condition)
        }
    }
}

/// The one type of `parts` (a comparison's sides), given to its untyped columns; two columns
/// alone are read as text.
fn unify(parts: &mut [&mut Expr], whole: &Expr) -> Result<Ty, FilterError> {
    let mut known: Option<(Ty, usize)> = None;
    for (i, part) in parts.iter_mut().enumerate() {
        let ty = check_node(part)?;
        match ty {
            Ty::Condition => {
                return Err(type_error(
                    "a condition is not compared: join conditions with `and` or `or`".to_owned(),
                    part,
                ));
            }
            Ty::Column => {}
            ty => match known {
                None => known = Some((ty, i)),
                Some((k, _)) if k == ty => {}
                Some((k, _)) => {
                    return Err(type_error(
                        format!(
                            "this compares {} with {}: they cannot be compared",
                            k.name(),
                            ty.name()
                        ),
                        whole,
                    ));
                }
            },
        }
    }
    let ty = known.map_or(Ty::Text, |(ty, _)| ty);
    for part in parts.iter_mut() {
        settle(part, ty.kind());
    }
    Ok(ty)
}

/// Gives an untyped column its type.
fn settle(expr: &mut Expr, kind: Kind) {
    if let Node::Column(_, k) = &mut expr.node
        && *k == Kind::Unknown
    {
        *k = kind;
    }
}
