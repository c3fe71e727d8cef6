//! Tokens and the tree of a filter, each node with its byte range in the expression (the
//! grammar is in the module's documentation, [`crate::filter`]).

use std::ops::Range;

use super::{FilterError, MAX_DEPTH, MAX_LIST};

/// How a column's cells are read, decided by what they are compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Not decided yet (only while checking).
    Unknown,
    Text,
    Number,
    Date,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    pub(super) fn ordering(self) -> bool {
        !matches!(self, Op::Eq | Op::Ne)
    }
}

#[derive(Debug, Clone)]
pub(super) enum Node {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare(Op, Box<Expr>, Box<Expr>),
    Between(Box<Expr>, Box<Expr>, Box<Expr>),
    In {
        value: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    IsEmpty {
        column: usize,
        negated: bool,
    },
    /// A column (an index into the filter's columns) and how its cells are read.
    Column(usize, Kind),
    Text(String),
    Number(f64),
    Today,
    /// A date moved by a number of calendar days.
    Shift(Box<Expr>, i64),
}

#[derive(Debug, Clone)]
pub(super) struct Expr {
    pub(super) node: Node,
    pub(super) span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Text(String),
    Number(f64),
    /// Days.
    Length(i64),
    Sym(&'static str),
}

/// The tree of `text` and the columns it names.
pub(super) fn parse(text: &str) -> Result<(Expr, Vec<String>), FilterError> {
    let toks = lex(text)?;
    let mut p = Parser {
        toks,
        at: 0,
        end: text.len(),
        depth: 0,
        columns: Vec::new(),
    };
    if p.toks.is_empty() {
        return Err(syntax("the filter is empty", 0..text.len()));
    }
    let expr = p.or()?;
    if let Some((_, span)) = p.toks.get(p.at) {
        return Err(syntax(
            "expected `and`, `or` or the end of the filter here",
            span.clone(),
        ));
    }
    Ok((expr, p.columns))
}

fn syntax(message: impl Into<String>, span: Range<usize>) -> FilterError {
    FilterError::Syntax {
        message: message.into(),
        span,
    }
}

fn lex(text: &str) -> Result<Vec<(Tok, Range<usize>)>, FilterError> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let tok = match c {
            b'"' | b'\'' | b'`' => {
                let close = text[i + 1..].find(char::from(c)).ok_or_else(|| {
                    let what = if c == b'`' { "column name" } else { "text" };
                    syntax(
                        format!("this {what} has no closing {}", char::from(c)),
                        start..text.len(),
                    )
                })?;
                let inner = text[i + 1..i + 1 + close].to_owned();
                i += close + 2;
                if c == b'`' {
                    if inner.trim().is_empty() {
                        return Err(syntax("a column name in backticks is empty", start..i));
                    }
                    Tok::Quoted(inner)
                } else {
                    Tok::Text(inner)
                }
            }
            b'0'..=b'9' => {
                while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                    i += 1;
                }
                let digits = &text[start..i];
                let unit = bytes.get(i).copied();
                let after_unit = bytes.get(i + 1).copied();
                let word_char =
                    |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
                if matches!(unit, Some(b'd' | b'w')) && !word_char(after_unit) {
                    i += 1;
                    let n: i64 = digits
                        .parse()
                        .ok()
                        .filter(|n| *n <= 36_600)
                        .ok_or_else(|| syntax("a length of time is a whole number of days (`3d`) or weeks (`2w`), at most 100 years", start..i))?;
                    Tok::Length(if unit == Some(b'w') { n * 7 } else { n })
                } else if word_char(unit) {
                    return Err(syntax(
                        "a number is followed by letters: lengths of time are written `3d` (days) or `2w` (weeks)",
                        start..i + 1,
                    ));
                } else {
                    let n: f64 = digits
                        .parse()
                        .ok()
                        .filter(|n: &f64| n.is_finite())
                        .ok_or_else(|| syntax("this is not a number", start..i))?;
                    Tok::Number(n)
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                Tok::Word(text[start..i].to_owned())
            }
            _ => {
                let two = text.get(i..i + 2);
                let sym = match two {
                    Some("==") => Some("=="),
                    Some("!=") => Some("!="),
                    Some("<=") => Some("<="),
                    Some(">=") => Some(">="),
                    _ => None,
                };
                if let Some(sym) = sym {
                    i += 2;
                    Tok::Sym(sym)
                } else {
                    let one = match c {
                        b'<' => "<",
                        b'>' => ">",
                        b'+' => "+",
                        b'-' => "-",
                        b'(' => "(",
                        b')' => ")",
                        b'[' => "[",
                        b']' => "]",
                        b',' => ",",
                        b'=' => {
                            return Err(syntax("write `==` to compare", start..start + 1));
                        }
                        _ => {
                            let len = text[i..].chars().next().map_or(1, char::len_utf8);
                            return Err(syntax(
                                "this character is not part of a filter (text is written in quotes, column names with spaces in backticks)",
                                start..start + len,
                            ));
                        }
                    };
                    i += 1;
                    Tok::Sym(one)
                }
            }
        };
        out.push((tok, start..i));
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, Range<usize>)>,
    at: usize,
    end: usize,
    depth: usize,
    columns: Vec<String>,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|(t, _)| t)
    }

    fn here(&self) -> Range<usize> {
        self.toks
            .get(self.at)
            .map_or(self.end..self.end, |(_, s)| s.clone())
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn sym(&self, sym: &str) -> bool {
        matches!(self.peek(), Some(Tok::Sym(s)) if *s == sym)
    }

    fn bump(&mut self) -> Range<usize> {
        let span = self.here();
        self.at += 1;
        span
    }

    fn expect_sym(&mut self, sym: &str, what: &str) -> Result<Range<usize>, FilterError> {
        if self.sym(sym) {
            Ok(self.bump())
        } else {
            Err(syntax(format!("expected {what} here"), self.here()))
        }
    }

    fn deeper(&mut self, span: Range<usize>) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(syntax(
                format!("the filter nests parentheses and `not`s more than {MAX_DEPTH} deep"),
                span,
            ));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.bump();
            let right = self.and()?;
            left = join(left, right, Node::Or);
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.not()?;
        while self.keyword("and") {
            self.bump();
            let right = self.not()?;
            left = join(left, right, Node::And);
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, FilterError> {
        if self.keyword("not") {
            let start = self.bump();
            self.deeper(start.clone())?;
            let inner = self.not()?;
            self.depth -= 1;
            let span = start.start..inner.span.end;
            return Ok(Expr {
                node: Node::Not(Box::new(inner)),
                span,
            });
        }
        self.condition()
    }

    fn condition(&mut self) -> Result<Expr, FilterError> {
        if self.sym("(") {
            let start = self.bump();
            self.deeper(start.clone())?;
            let inner = self.or()?;
            let close = self.expect_sym(")", "`)`")?;
            self.depth -= 1;
            return Ok(Expr {
                node: inner.node,
                span: start.start..close.end,
            });
        }
        let value = self.value()?;
        let start = value.span.start;
        let op = match self.peek() {
            Some(Tok::Sym("==")) => Some(Op::Eq),
            Some(Tok::Sym("!=")) => Some(Op::Ne),
            Some(Tok::Sym("<")) => Some(Op::Lt),
            Some(Tok::Sym("<=")) => Some(Op::Le),
            Some(Tok::Sym(">")) => Some(Op::Gt),
            Some(Tok::Sym(">=")) => Some(Op::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.bump();
            let right = self.value()?;
            let span = start..right.span.end;
            return Ok(Expr {
                node: Node::Compare(op, Box::new(value), Box::new(right)),
                span,
            });
        }
        if self.keyword("between") {
            self.bump();
            let low = self.value()?;
            if !self.keyword("and") {
                return Err(syntax(
                    "expected `and` here: `between LOW and HIGH`",
                    self.here(),
                ));
            }
            self.bump();
            let high = self.value()?;
            let span = start..high.span.end;
            return Ok(Expr {
                node: Node::Between(Box::new(value), Box::new(low), Box::new(high)),
                span,
            });
        }
        let negated_in = self.keyword("not")
            && matches!(self.toks.get(self.at + 1), Some((Tok::Word(w), _)) if w.eq_ignore_ascii_case("in"));
        if self.keyword("in") || negated_in {
            if negated_in {
                self.bump();
            }
            self.bump();
            return self.list(value, negated_in);
        }
        if self.keyword("is") {
            self.bump();
            let negated = self.keyword("not");
            if negated {
                self.bump();
            }
            if !self.keyword("empty") {
                return Err(syntax(
                    "expected `empty` here: `COLUMN is empty`",
                    self.here(),
                ));
            }
            let end = self.bump().end;
            let Node::Column(column, _) = value.node else {
                return Err(syntax(
                    "only a column can be empty: `COLUMN is empty`",
                    value.span,
                ));
            };
            return Ok(Expr {
                node: Node::IsEmpty { column, negated },
                span: start..end,
            });
        }
        Ok(value)
    }

    fn list(&mut self, value: Expr, negated: bool) -> Result<Expr, FilterError> {
        self.expect_sym("[", "`[`, the start of a list: `in [\"a\", \"b\"]`")?;
        let mut list = Vec::new();
        loop {
            if list.len() == MAX_LIST {
                return Err(syntax(
                    format!("a list holds at most {MAX_LIST} values"),
                    self.here(),
                ));
            }
            let item = self.value()?;
            if matches!(item.node, Node::Column(..)) {
                return Err(syntax(
                    "a list holds values (numbers in digits, text in quotes), not columns",
                    item.span,
                ));
            }
            list.push(item);
            if self.sym(",") {
                self.bump();
                continue;
            }
            let end = self.expect_sym("]", "`,` or `]`")?.end;
            let span = value.span.start..end;
            return Ok(Expr {
                node: Node::In {
                    value: Box::new(value),
                    list,
                    negated,
                },
                span,
            });
        }
    }

    fn value(&mut self) -> Result<Expr, FilterError> {
        let mut value = self.atom()?;
        while self.sym("+") || self.sym("-") {
            let minus = self.sym("-");
            self.bump();
            let span = self.here();
            let Some(Tok::Length(days)) = self.peek().cloned() else {
                return Err(syntax(
                    "expected a length of time here, such as `3d` or `2w`",
                    span,
                ));
            };
            self.bump();
            let span = value.span.start..span.end;
            value = Expr {
                node: Node::Shift(Box::new(value), if minus { -days } else { days }),
                span,
            };
        }
        Ok(value)
    }

    fn atom(&mut self) -> Result<Expr, FilterError> {
        let span = self.here();
        let Some(tok) = self.peek().cloned() else {
            return Err(syntax("the filter ends where a value was expected", span));
        };
        let node = match tok {
            Tok::Text(t) => Node::Text(t),
            Tok::Number(n) => Node::Number(n),
            Tok::Sym("-") => {
                self.bump();
                let Some(Tok::Number(n)) = self.peek().cloned() else {
                    return Err(syntax("expected a number after `-`", self.here()));
                };
                let end = self.bump().end;
                return Ok(Expr {
                    node: Node::Number(-n),
                    span: span.start..end,
                });
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("today") => Node::Today,
            Tok::Word(w) if is_keyword(&w) => {
                return Err(syntax(
                    format!(
                        "expected a value here, not `{w}` (a column with this name is written in backticks)"
                    ),
                    span,
                ));
            }
            Tok::Word(w) | Tok::Quoted(w) => Node::Column(self.column(w), Kind::Unknown),
            Tok::Length(_) => {
                return Err(syntax(
                    "a length of time is added to a date: `today + 3d`",
                    span,
                ));
            }
            Tok::Sym(_) => return Err(syntax("expected a value here", span)),
        };
        self.bump();
        Ok(Expr { node, span })
    }

    fn column(&mut self, name: String) -> usize {
        if let Some(i) = self.columns.iter().position(|c| *c == name) {
            i
        } else {
            self.columns.push(name);
            self.columns.len() - 1
        }
    }
}

fn is_keyword(word: &str) -> bool {
    ["and", "or", "not", "between", "in", "is", "empty"]
        .iter()
        .any(|k| word.eq_ignore_ascii_case(k))
}

fn join(left: Expr, right: Expr, make: fn(Box<Expr>, Box<Expr>) -> Node) -> Expr {
    let span = left.span.start..right.span.end;
    Expr {
        node: make(Box::new(left), Box::new(right)),
        span,
    }
}
