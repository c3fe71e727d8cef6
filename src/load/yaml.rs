//! A YAML loader that keeps every node's position and how each scalar was written.
//!
//! serde-based loaders resolve `08031234567` to the number 8031234567 and forget that it
//! was unquoted, which is exactly what a validator for hand-edited files needs to know.
//! So this module builds its own tree from `saphyr-parser` events, iteratively (no
//! recursion, so deep nesting cannot overflow the stack), under hard limits on size, depth
//! and node count (alias bombs hit the node limit long before memory runs out).

use std::fmt;

use saphyr_parser::{Event, Parser, ScalarStyle};

/// Refuse files larger than this before parsing: campaign files are small, patient data
/// belongs in patient files.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// The deepest nesting accepted (a campaign needs about 6 levels).
pub const MAX_DEPTH: usize = 64;
/// The most nodes accepted, counting every expansion of an alias.
pub const MAX_NODES: usize = 100_000;

/// A position in a source file: 1-based line and column (in characters), and byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
    pub offset: usize,
}

/// A range of source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
    Block,
}

/// A YAML node with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Scalar { text: String, style: Style },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// Why a document could not be loaded at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub kind: LoadErrorKind,
    pub span: Span,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadErrorKind {
    Syntax,
    Tab,
    TooDeep,
    TooManyNodes,
    MultipleDocuments,
    NotText,
    Empty,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Maps character-based markers (what the parser reports) to byte offsets, in time that
/// does not grow with the length of the line: a line of ASCII maps a column to its byte at
/// once, and on another line the walk goes on from the last position asked for (the parser
/// reports positions in the document's order), so a hostile 240 KB line of 120,000 values is
/// mapped in one pass, not 120,000.
struct Offsets<'a> {
    text: &'a str,
    /// Byte offset of each line start (line 1 at index 0).
    line_starts: Vec<usize>,
    /// Whether each line is ASCII only (a character is a byte).
    ascii: Vec<bool>,
    /// The last position walked to on a line that is not ASCII: (line, column, byte offset).
    last: std::cell::Cell<(usize, usize, usize)>,
}

impl<'a> Offsets<'a> {
    fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let ascii = line_starts
            .iter()
            .enumerate()
            .map(|(i, &start)| {
                let end = line_starts.get(i + 1).map_or(text.len(), |&e| e - 1);
                text.as_bytes()[start..end].is_ascii()
            })
            .collect();
        Offsets {
            text,
            line_starts,
            ascii,
            last: std::cell::Cell::new((0, 0, 0)),
        }
    }

    /// A position from the parser's 1-based line and 0-based character column.
    fn pos(&self, line: usize, col: usize) -> Pos {
        let line = line.clamp(1, self.line_starts.len());
        let start = self.line_starts[line - 1];
        let end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |&e| e - 1);
        let byte = if self.ascii[line - 1] {
            col.min(end - start)
        } else {
            // Walk on from the last position on this line when it is not past the column.
            let (l, c, b) = self.last.get();
            let (mut c, mut b) = if l == line && c <= col {
                (c, b)
            } else {
                (0, 0)
            };
            let mut chars = self.text[start + b..end].chars();
            while c < col {
                match chars.next() {
                    Some(ch) => {
                        b += ch.len_utf8();
                        c += 1;
                    }
                    None => break,
                }
            }
            self.last.set((line, c, b));
            b
        };
        Pos {
            line,
            column: col + 1,
            offset: start + byte,
        }
    }

    fn span(&self, s: saphyr_parser::Span) -> Span {
        Span {
            start: self.pos(s.start.line(), s.start.col()),
            end: self.pos(s.end.line(), s.end.col()),
        }
    }
}

enum Frame {
    Seq {
        items: Vec<Node>,
        start: Span,
        anchor: usize,
    },
    Map {
        pairs: Vec<(Node, Node)>,
        key: Option<Node>,
        start: Span,
        anchor: usize,
    },
}

/// Loads one YAML document. Multiple documents, tabs in indentation and limits breached are
/// errors; an empty document is [`LoadErrorKind::Empty`].
pub fn load(text: &str) -> Result<Node, LoadError> {
    let offsets = Offsets::new(text);
    if let Some(err) = find_tab_indent(text, &offsets) {
        return Err(err);
    }
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: Vec<Option<Node>> = Vec::new();
    let mut root: Option<Node> = None;
    let mut nodes = 0usize;
    let mut documents = 0usize;

    while let Some(event) = parser.next_event() {
        let (event, raw_span) = event.map_err(|e| {
            let m = e.marker();
            let p = offsets.pos(m.line(), m.col());
            LoadError {
                kind: LoadErrorKind::Syntax,
                span: Span { start: p, end: p },
                message: e.info().to_owned(),
            }
        })?;
        let span = offsets.span(raw_span);
        let node = match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(LoadError {
                        kind: LoadErrorKind::MultipleDocuments,
                        span,
                        message: "this file holds more than one YAML document (`---`); a campaign file holds exactly one".to_owned(),
                    });
                }
                continue;
            }
            Event::SequenceStart(anchor, _) => {
                push_frame(
                    &mut stack,
                    Frame::Seq {
                        items: Vec::new(),
                        start: span,
                        anchor,
                    },
                    span,
                )?;
                continue;
            }
            Event::MappingStart(anchor, _) => {
                push_frame(
                    &mut stack,
                    Frame::Map {
                        pairs: Vec::new(),
                        key: None,
                        start: span,
                        anchor,
                    },
                    span,
                )?;
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => close(&mut stack, &mut anchors, span),
            Event::Scalar(text, style, anchor, _tag) => {
                nodes += 1;
                let node = scalar(text.into_owned(), style, span);
                remember(&mut anchors, anchor, &node);
                node
            }
            Event::Alias(id) => alias(&anchors, id, span, &mut nodes, stack.len())?,
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {
                continue;
            }
        };
        nodes += usize::from(!matches!(node.kind, NodeKind::Scalar { .. }));
        if nodes > MAX_NODES {
            return Err(too_many_nodes(span));
        }
        attach(&mut stack, &mut root, node);
    }
    root.ok_or(LoadError {
        kind: LoadErrorKind::Empty,
        span: Span::default(),
        message: "the file holds no campaign (it is empty or has only comments)".to_owned(),
    })
}

fn push_frame(stack: &mut Vec<Frame>, frame: Frame, span: Span) -> Result<(), LoadError> {
    if stack.len() >= MAX_DEPTH {
        return Err(LoadError {
            kind: LoadErrorKind::TooDeep,
            span,
            message: format!("the file nests deeper than {MAX_DEPTH} levels"),
        });
    }
    stack.push(frame);
    Ok(())
}

/// Closes the collection on top of the stack, its span ending where `end` does.
fn close(stack: &mut Vec<Frame>, anchors: &mut Vec<Option<Node>>, end: Span) -> Node {
    let (kind, start, anchor) = match stack.pop() {
        Some(Frame::Seq {
            items,
            start,
            anchor,
        }) => (NodeKind::Seq(items), start, anchor),
        Some(Frame::Map {
            pairs,
            start,
            anchor,
            ..
        }) => (NodeKind::Map(pairs), start, anchor),
        None => unreachable!("the parser balances collection events"),
    };
    let node = Node {
        kind,
        span: Span {
            start: start.start,
            end: end.end,
        },
    };
    remember(anchors, anchor, &node);
    node
}

fn scalar(text: String, style: ScalarStyle, span: Span) -> Node {
    let style = match style {
        ScalarStyle::Plain => Style::Plain,
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Style::Quoted,
        _ => Style::Block,
    };
    Node {
        kind: NodeKind::Scalar { text, style },
        span,
    }
}

/// The node an alias stands for, counted against the limits as if written out.
fn alias(
    anchors: &[Option<Node>],
    id: usize,
    span: Span,
    nodes: &mut usize,
    open: usize,
) -> Result<Node, LoadError> {
    let Some(Some(target)) = anchors.get(id) else {
        return Err(LoadError {
            kind: LoadErrorKind::Syntax,
            span,
            message: "this alias refers to an anchor that is not defined before it".to_owned(),
        });
    };
    let size = count_nodes(target, MAX_NODES.saturating_sub(*nodes) + 1);
    *nodes += size;
    if *nodes > MAX_NODES || open + depth(target) > MAX_DEPTH {
        return Err(too_many_nodes(span));
    }
    let mut node = target.clone();
    node.span = span;
    Ok(node)
}

/// Puts a finished node in its parent (or makes it the document).
fn attach(stack: &mut [Frame], root: &mut Option<Node>, node: Node) {
    match stack.last_mut() {
        None => *root = Some(node),
        Some(Frame::Seq { items, .. }) => items.push(node),
        Some(Frame::Map { pairs, key, .. }) => match key.take() {
            None => *key = Some(node),
            Some(k) => pairs.push((k, node)),
        },
    }
}

fn too_many_nodes(span: Span) -> LoadError {
    LoadError {
        kind: LoadErrorKind::TooManyNodes,
        span,
        message: format!(
            "the file expands to more than {MAX_NODES} values (aliases included); is it an alias bomb?"
        ),
    }
}

fn remember(anchors: &mut Vec<Option<Node>>, anchor: usize, node: &Node) {
    if anchor == 0 {
        return;
    }
    if anchors.len() <= anchor {
        anchors.resize(anchor + 1, None);
    }
    anchors[anchor] = Some(node.clone());
}

/// Counts nodes up to `limit` (stops early so a huge alias costs nothing to measure).
fn count_nodes(node: &Node, limit: usize) -> usize {
    let mut count = 0;
    let mut todo = vec![node];
    while let Some(n) = todo.pop() {
        count += 1;
        if count >= limit {
            return count;
        }
        match &n.kind {
            NodeKind::Scalar { .. } => {}
            NodeKind::Seq(items) => todo.extend(items),
            NodeKind::Map(pairs) => {
                for (k, v) in pairs {
                    todo.push(k);
                    todo.push(v);
                }
            }
        }
    }
    count
}

fn depth(node: &Node) -> usize {
    let mut max = 0;
    let mut todo = vec![(node, 0usize)];
    while let Some((n, d)) = todo.pop() {
        match &n.kind {
            NodeKind::Scalar { .. } => max = max.max(d),
            NodeKind::Seq(items) => todo.extend(items.iter().map(|i| (i, d + 1))),
            NodeKind::Map(pairs) => todo.extend(pairs.iter().map(|(_, v)| (v, d + 1))),
        }
    }
    max
}

/// YAML forbids tabs in indentation; the parser's message for them is cryptic.
fn find_tab_indent(text: &str, offsets: &Offsets<'_>) -> Option<LoadError> {
    for (i, line) in text.lines().enumerate() {
        let indent: &str = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
        if let Some(col) = indent.find('\t') {
            // A tab after a `- ` or inside a block scalar is legal YAML, but rare enough in
            // campaign files that the parser decides: only report tabs it would reject.
            if line.trim_start_matches([' ', '\t']).is_empty() {
                continue;
            }
            let start = offsets.pos(i + 1, col);
            return Some(LoadError {
                kind: LoadErrorKind::Tab,
                span: Span {
                    start,
                    end: Pos {
                        column: start.column + 1,
                        offset: start.offset + 1,
                        ..start
                    },
                },
                message: "a tab is used for indentation; YAML only allows spaces".to_owned(),
            });
        }
    }
    None
}

/// A scalar resolved by the YAML 1.2 core schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str,
}

/// Resolves a plain scalar as YAML 1.2's core schema does (quoted scalars are always text).
pub fn resolve_plain(text: &str) -> Resolved {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "true" | "True" | "TRUE" => return Resolved::Bool(true),
        "false" | "False" | "FALSE" => return Resolved::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<i64>().map_or(Resolved::Str, Resolved::Int);
    }
    if let Some(hex) = text.strip_prefix("0x")
        && !hex.is_empty()
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return i64::from_str_radix(hex, 16).map_or(Resolved::Str, Resolved::Int);
    }
    if let Some(oct) = text.strip_prefix("0o")
        && !oct.is_empty()
        && oct.bytes().all(|b| (b'0'..=b'7').contains(&b))
    {
        return i64::from_str_radix(oct, 8).map_or(Resolved::Str, Resolved::Int);
    }
    if is_core_float(text) {
        return text.parse::<f64>().map_or(Resolved::Str, Resolved::Float);
    }
    Resolved::Str
}

/// `[-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`
fn is_core_float(text: &str) -> bool {
    let s = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((a, b)) => {
            (!a.is_empty() || !b.is_empty())
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|c| c.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|c| c.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_on_a_long_line_are_found_in_order_and_out_of_it() {
        // Issue 14: each position was counted from its line's start, so a flow list of
        // 100,000 values on one line took minutes to load. Found from the last one now, in
        // order or not, multi-byte characters and a column past the line's end included.
        let o = Offsets::new("a: [é, b, c]\nx: 1\n");
        assert_eq!(o.pos(1, 4).offset, 4);
        assert_eq!(o.pos(1, 7).offset, 8);
        assert_eq!(o.pos(1, 4).offset, 4);
        assert_eq!(o.pos(1, 99).offset, 13);
        assert_eq!(o.pos(1, 100).offset, 13);
        assert_eq!(o.pos(2, 3).offset, 17);
        assert_eq!(o.pos(1, 0).offset, 0);
        let long = format!("big: [{}]\n", vec!["1"; 120_000].join(","));
        assert!(matches!(load(&long), Err(e) if e.kind == LoadErrorKind::TooManyNodes));
    }

    #[test]
    fn keeps_positions_and_styles() {
        let node = load("a: 1\nb:\n  - '0803'\n  - 0803\n").unwrap();
        let NodeKind::Map(pairs) = node.kind else {
            panic!()
        };
        assert_eq!(pairs.len(), 2);
        let NodeKind::Seq(items) = &pairs[1].1.kind else {
            panic!()
        };
        assert_eq!(items[0].span.start.line, 3);
        assert_eq!(items[0].span.start.column, 5);
        assert!(matches!(
            items[0].kind,
            NodeKind::Scalar {
                style: Style::Quoted,
                ..
            }
        ));
        assert!(matches!(
            items[1].kind,
            NodeKind::Scalar {
                style: Style::Plain,
                ..
            }
        ));
    }

    #[test]
    fn refuses_deep_nesting_without_overflowing() {
        let deep = "- ".repeat(10_000) + "x\n";
        let err = load(&deep).unwrap_err();
        assert_eq!(err.kind, LoadErrorKind::TooDeep);
        let flow = "[".repeat(10_000);
        assert!(load(&flow).is_err());
    }

    #[test]
    fn refuses_alias_bombs() {
        use std::fmt::Write as _;
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..9 {
            let prev = if i == 0 {
                "a".to_owned()
            } else {
                format!("l{}", i - 1)
            };
            let items = vec![format!("*{prev}"); 10].join(", ");
            writeln!(text, "l{i}: &l{i} [{items}]").unwrap();
        }
        let err = load(&text).unwrap_err();
        assert_eq!(err.kind, LoadErrorKind::TooManyNodes);
    }

    #[test]
    fn resolves_the_core_schema() {
        assert_eq!(resolve_plain("08031234567"), Resolved::Int(8_031_234_567));
        assert_eq!(
            resolve_plain("+2348031234567"),
            Resolved::Int(2_348_031_234_567)
        );
        assert_eq!(resolve_plain("no"), Resolved::Str);
        assert_eq!(resolve_plain("true"), Resolved::Bool(true));
        assert_eq!(resolve_plain("1.5"), Resolved::Float(1.5));
        assert_eq!(resolve_plain("09:00"), Resolved::Str);
        assert_eq!(resolve_plain("2026-12-01"), Resolved::Str);
        assert_eq!(resolve_plain(""), Resolved::Null);
    }

    /// The position of a character column as the plain walk finds it.
    fn walked(text: &str, line: usize, col: usize) -> usize {
        let start: usize = text
            .split_inclusive('\n')
            .take(line - 1)
            .map(str::len)
            .sum();
        let rest = &text[start..];
        start
            + rest
                .char_indices()
                .take_while(|&(_, c)| c != '\n')
                .nth(col)
                .map_or_else(|| rest.find('\n').unwrap_or(rest.len()), |(i, _)| i)
    }

    proptest::proptest! {
        // The quick mapping of columns to bytes agrees with the plain walk, in any order of
        // asking, on ASCII and other lines.
        #[test]
        fn columns_map_to_the_bytes_the_plain_walk_finds(
            lines in proptest::collection::vec("[a-zé€😀 ,:]{0,12}", 1..5),
            asks in proptest::collection::vec((0usize..6, 0usize..16), 1..24),
        ) {
            let text = lines.join("\n");
            let offsets = Offsets::new(&text);
            for (line, col) in asks {
                let line = line.min(lines.len() - 1) + 1;
                proptest::prop_assert_eq!(offsets.pos(line, col).offset, walked(&text, line, col));
            }
        }
    }

    // A hostile file (issue 14): one line of 120,000 values used to map each value's position
    // by walking the line from its start, 14 billion steps; it loads in one pass now (or is
    // refused for its size), not in hours.
    #[test]
    fn a_line_of_many_values_is_mapped_in_one_pass() {
        let mut text = String::from("big: [");
        text.push_str(&"1,".repeat(120_000));
        text.push_str("1]\n");
        let loaded = load(&text);
        if let Ok(node) = loaded {
            let NodeKind::Map(pairs) = node.kind else {
                panic!("a map")
            };
            let NodeKind::Seq(items) = &pairs[0].1.kind else {
                panic!("a sequence")
            };
            assert_eq!(items.last().unwrap().span.start.offset, text.len() - 3);
        }
        // With a character before the values that is not ASCII, the walk goes on.
        let text = format!("é: [{}1]\n", "1,".repeat(120_000));
        let _ = load(&text);
    }
}
