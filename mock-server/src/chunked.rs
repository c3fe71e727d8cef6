//! An append-only vector in fixed-size chunks: growing never copies or doubles, so a long
//! run's memory stays proportional to what is stored (glibc keeps the freed halves of doubled
//! vectors resident).

/// Records per chunk.
const CHUNK: usize = 16 * 1024;

#[derive(Debug)]
pub struct ChunkedVec<T> {
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
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn push(&mut self, value: T) {
        if self.len.is_multiple_of(CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        if let Some(last) = self.chunks.last_mut() {
            last.push(value);
        }
        self.len += 1;
    }

    pub fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        self.chunks.get_mut(index / CHUNK)?.get_mut(index % CHUNK)
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
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
