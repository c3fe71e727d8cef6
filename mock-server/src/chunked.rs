//! An append-only vector in fixed-size chunks: growing never copies or doubles, so a long
//! run's memory stays proportional to what is stored (glibc keeps the freed halves of doubled
//! vectors resident).

/// Records per chunk.
const CHUNK: usize = 16 * 1024;

#[derive(Debug)]
pub(crate) struct ChunkedVec<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for ChunkedVec<T> {
    fn default() -> Self {
        Self {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> ChunkedVec<T> {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn push(&mut self, value: T) {
        if self.len.is_multiple_of(CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        if let Some(last) = self.chunks.last_mut() {
            last.push(value);
        }
        self.len += 1;
    }

    pub(crate) fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        self.chunks.get_mut(index / CHUNK)?.get_mut(index % CHUNK)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }
}

impl<T> std::ops::Index<usize> for ChunkedVec<T> {
    type Output = T;
    fn index(&self, index: usize) -> &T {
        &self.chunks[index / CHUNK][index % CHUNK]
    }
}

impl<T> std::ops::IndexMut<usize> for ChunkedVec<T> {
    fn index_mut(&mut self, index: usize) -> &mut T {
        &mut self.chunks[index / CHUNK][index % CHUNK]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_and_index_across_chunks() {
        let mut v = ChunkedVec::default();
        for i in 0..(CHUNK * 2 + 5) {
            v.push(i);
        }
        assert_eq!(v.len(), CHUNK * 2 + 5);
        assert_eq!(v[CHUNK + 3], CHUNK + 3);
        assert_eq!(v.get_mut(CHUNK * 3), None);
        v[0] = 42;
        assert_eq!(v.iter().next(), Some(&42));
        assert_eq!(v.iter().count(), v.len());
    }
}

/// Bytes per text chunk.
const TEXT_CHUNK: usize = 1024 * 1024;

/// A place in a [`TextArena`]. Length 0 stands for "absent".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct TextRef {
    chunk: u32,
    start: u32,
    len: u32,
}

impl TextRef {
    pub(crate) fn is_absent(self) -> bool {
        self.len == 0
    }
}

/// Append-only text storage in large chunks: no allocation per stored string, so stored
/// call data costs its length and nothing more.
#[derive(Debug, Default)]
pub(crate) struct TextArena {
    chunks: Vec<String>,
}

impl TextArena {
    pub(crate) fn push(&mut self, text: &str) -> TextRef {
        if text.is_empty() {
            return TextRef::default();
        }
        let fits = self
            .chunks
            .last()
            .is_some_and(|last| last.capacity() - last.len() >= text.len());
        if !fits {
            self.chunks
                .push(String::with_capacity(TEXT_CHUNK.max(text.len())));
        }
        let chunk = self.chunks.len() - 1;
        let last = &mut self.chunks[chunk];
        let start = last.len();
        last.push_str(text);
        TextRef {
            chunk: u32::try_from(chunk).unwrap_or(u32::MAX),
            start: u32::try_from(start).unwrap_or(u32::MAX),
            len: u32::try_from(text.len()).unwrap_or(u32::MAX),
        }
    }

    /// The text at `at`; empty when absent.
    pub(crate) fn get(&self, at: TextRef) -> &str {
        if at.is_absent() {
            return "";
        }
        let start = at.start as usize;
        self.chunks
            .get(at.chunk as usize)
            .and_then(|chunk| chunk.get(start..start + at.len as usize))
            .unwrap_or("")
    }
}

#[cfg(test)]
mod text_tests {
    use super::*;

    #[test]
    fn stores_and_reads_back() {
        let mut arena = TextArena::default();
        let a = arena.push("hello");
        let none = arena.push("");
        let big = "x".repeat(TEXT_CHUNK + 1);
        let b = arena.push(&big);
        let c = arena.push("é");
        assert_eq!(arena.get(a), "hello");
        assert!(none.is_absent());
        assert_eq!(arena.get(none), "");
        assert_eq!(arena.get(b), big);
        assert_eq!(arena.get(c), "é");
    }
}
