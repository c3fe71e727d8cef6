//! The few lines of a file a diagnostic shows: the line it points at and one line either side,
//! each cut to a window around the place, with characters a terminal would act on made
//! visible. A campaign file is written by anyone who can open a pull request, so what is
//! shown of it is bounded (about 200 characters however long its lines are) and inert
//! (no control sequences, no text-direction overrides), and miette is only ever handed this
//! excerpt: its column arithmetic panics on lines past 65,535 columns.

use crate::load::diagnostic::is_hidden;
use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// The most characters of the pointed-at line shown.
pub const FOCUS_CHARS: usize = 100;
/// The most characters of each line around it shown.
pub const CONTEXT_CHARS: usize = 50;
/// How many characters of the line before the place a cut line keeps.
const LEAD_CHARS: usize = 30;
/// What stands for the part of a line that is not shown.
const CUT: char = '…';
/// What stands for a character that is not shown as itself.
const HIDDEN: char = '\u{fffd}';

/// An excerpt of a file, ready for miette: its text, where it starts in the file, and the
/// label's place in it.
#[derive(Debug, Clone)]
pub struct Excerpt {
    name: String,
    text: String,
    /// The file's 0-based line number of the excerpt's first line.
    first_line: usize,
    /// The label: its offset and length in `text`, in bytes.
    label: (usize, usize),
    /// The label's start in the file: 0-based line and character column.
    line: usize,
    column: usize,
}

impl Excerpt {
    /// The excerpt of `source` around the span from byte `start` to byte `end` (either may be
    /// out of range or inside a character; both are brought into the text). The label covers
    /// the span on its first line, trailing blanks left out, and at least one character
    /// unless the place is the end of the file.
    pub fn around(name: String, source: &str, start: usize, end: usize) -> Self {
        let start = floor_boundary(source, start);
        let end = floor_boundary(source, end).max(start);
        let line_start = source[..start].rfind(['\n', '\r']).map_or(0, |i| i + 1);
        let line_end = line_end(source, start);
        let line = line_breaks(&source[..start]);
        let column = source[line_start..start].chars().count();

        let mut text = String::new();
        let mut first_line = line;
        if line_start > 0 {
            let before_end = line_start - 1 - usize::from(source[..line_start].ends_with("\r\n"));
            let before_start = source[..before_end]
                .rfind(['\n', '\r'])
                .map_or(0, |i| i + 1);
            push_shown(
                &mut text,
                &source[before_start..before_end],
                0,
                CONTEXT_CHARS,
            );
            text.push('\n');
            first_line -= 1;
        }

        let focus = &source[line_start..line_end];
        let focus_chars = focus.chars().count();
        let from = window_start(focus_chars, column);
        let label_end = end.min(line_end);
        let spanned = source[start..label_end].trim_end();
        let label_chars = if spanned.is_empty() {
            usize::from(start < source.len())
        } else {
            spanned.chars().count()
        };
        let focus_at = text.len();
        let shown = push_shown(&mut text, focus, from, FOCUS_CHARS);
        // The label in the excerpt: from the place's character to its end, within the window.
        let label_from = column.clamp(from, shown.end);
        let label_to = (column + label_chars).clamp(label_from, shown.end);
        let label_start = focus_at + shown.offset_of(label_from);
        let label_len = focus_at + shown.offset_of(label_to) - label_start;
        let label_len = if label_len == 0 && label_chars > 0 && label_start < text.len() {
            // The place is a line's end: underline its break, as for any other character.
            text[label_start..].chars().next().map_or(0, char::len_utf8)
        } else {
            label_len
        };

        if line_end < source.len() {
            let after_start = line_end
                + if source[line_end..].starts_with("\r\n") {
                    2
                } else {
                    1
                };
            let after_end = self::line_end(source, after_start);
            text.push('\n');
            push_shown(&mut text, &source[after_start..after_end], 0, CONTEXT_CHARS);
        }

        Excerpt {
            name,
            text,
            first_line,
            label: (label_start, label_len),
            line,
            column,
        }
    }

    /// The label's place in the excerpt, for a `miette::LabeledSpan`.
    pub fn label(&self) -> (usize, usize) {
        self.label
    }

    /// The excerpt's text (what is shown of the file, before miette draws it).
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        // The line and column miette prints in the header are the file's, not the excerpt's.
        let (line, column) = if span.offset() == self.label.0 && context_lines_before == 0 {
            (self.line, self.column)
        } else {
            (inner.line() + self.first_line, inner.column())
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            line,
            column,
            inner.line_count(),
        )))
    }
}

/// Which characters of a line were shown, and where each landed in the excerpt.
struct Shown {
    /// The character index just past the last one shown.
    end: usize,
    /// The first character index shown.
    start: usize,
    /// The byte offset (from the line's start in the excerpt) of each shown character, and
    /// one past the last.
    offsets: Vec<usize>,
}

impl Shown {
    /// The offset in the line's excerpt of character `index` (within `start..=end`).
    fn offset_of(&self, index: usize) -> usize {
        self.offsets[index.clamp(self.start, self.end) - self.start]
    }
}

/// Appends the characters `from..from + most` of `line`, cut marks where it is cut and
/// characters that must not reach a terminal replaced.
fn push_shown(text: &mut String, line: &str, from: usize, most: usize) -> Shown {
    let at = text.len();
    if from > 0 {
        text.push(CUT);
    }
    let mut offsets = Vec::with_capacity(most.min(line.len()) + 1);
    let mut chars = line.chars().skip(from);
    let mut end = from;
    for c in chars.by_ref().take(most) {
        offsets.push(text.len() - at);
        text.push(if is_hidden(c) { HIDDEN } else { c });
        end += 1;
    }
    offsets.push(text.len() - at);
    if chars.next().is_some() {
        text.push(CUT);
    }
    Shown {
        end,
        start: from,
        offsets,
    }
}

/// The first character shown of a line of `chars` characters whose place is at `column`:
/// the place with some of what leads to it, the whole window used near the line's end.
fn window_start(chars: usize, column: usize) -> usize {
    if chars <= FOCUS_CHARS {
        return 0;
    }
    column
        .saturating_sub(LEAD_CHARS)
        .min(chars.saturating_sub(FOCUS_CHARS))
}

/// The end of the line holding byte `at` (the offset of its line break, or the text's end).
fn line_end(source: &str, at: usize) -> usize {
    source[at..]
        .find(['\n', '\r'])
        .map_or(source.len(), |i| at + i)
}

/// How many line breaks (`\n`, `\r\n`, a lone `\r`, as YAML counts them) `text` holds.
fn line_breaks(text: &str) -> usize {
    let bytes = text.as_bytes();
    bytes
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
        .count()
}

/// `at` brought into `text` and back to the start of the character it falls in.
fn floor_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excerpt(source: &str, start: usize, end: usize) -> Excerpt {
        Excerpt::around("f.yaml".to_owned(), source, start, end)
    }

    fn labelled(e: &Excerpt) -> &str {
        let (at, len) = e.label();
        &e.text()[at..at + len]
    }

    #[test]
    fn short_lines_are_shown_whole() {
        let src = "a: 1\nname: Ada\nb: 2\nc: 3\n";
        let e = excerpt(src, 11, 14);
        assert_eq!(e.text(), "a: 1\nname: Ada\nb: 2");
        assert_eq!(labelled(&e), "Ada");
        assert_eq!((e.line, e.column, e.first_line), (1, 6, 0));
    }

    #[test]
    fn a_long_line_is_cut_around_the_place() {
        let line = format!("name: {}X{}", "a".repeat(70_000), "b".repeat(70_000));
        let src = format!("before\n{line}\nafter: {}\n", "c".repeat(1000));
        let at = 7 + 6 + 70_000;
        let e = excerpt(&src, at, at + 1);
        assert_eq!(labelled(&e), "X");
        assert!(e.text().chars().count() < FOCUS_CHARS + 2 * CONTEXT_CHARS + 10);
        assert_eq!((e.line, e.column), (1, 70_006));
        let focus = e.text().lines().nth(1).unwrap();
        assert!(focus.starts_with(CUT) && focus.ends_with(CUT), "{focus}");
        assert!(e.text().ends_with(&format!("after: {}…", "c".repeat(43))));
    }

    #[test]
    fn controls_and_direction_marks_are_not_shown() {
        let src = "name: \u{1b}[31mred\u{202e}txt\r\nb: \u{7}\n";
        let e = excerpt(src, 0, 4);
        assert!(
            !e.text().contains(['\u{1b}', '\u{202e}', '\u{7}', '\r']),
            "{:?}",
            e.text()
        );
        assert_eq!(e.text(), "name: �[31mred�txt\nb: �");
    }

    #[test]
    fn places_at_the_end_or_inside_a_character_are_brought_into_the_text() {
        let src = "naïve: x\n";
        for (start, end) in [(3, 2), (100, 200), (src.len(), src.len()), (9, 9)] {
            let e = excerpt(src, start, end);
            assert!(e.label().0 + e.label().1 <= e.text().len());
        }
        assert_eq!(labelled(&excerpt(src, 3, 4)), "ï");
    }
}
