//! Who is the same patient: the first callable row of a number (or of a `dedupe` column's
//! value) is called, and later rows are skipped as duplicates. The planner asks only about
//! rows it can call, so a skipped row never stands in for one that can be called. Two values of the column never call one
//! number twice.

use std::collections::HashMap;

/// A row's place: the source's index and the row's number in it.
pub type Place = (usize, u64);

/// Why a row is a duplicate, and of which row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Duplicate {
    /// The same number as an earlier row.
    Number(Place),
    /// The same value of the `dedupe` column as an earlier row.
    Column(Place),
}

/// The rows seen so far. foldhash rather than SipHash: the set is asked once per row, and
/// its seed is random per process, so a hostile list cannot pick numbers that collide.
#[derive(Debug, Default)]
pub struct Dedupe {
    by_number: Numbers,
    by_column: HashMap<String, Place, foldhash::fast::RandomState>,
}

/// How many tables [`Numbers`] spreads its numbers over.
const SHARDS: usize = 64;
/// The bits of a packed place that hold the row (the source's index is in the four above).
const ROW_BITS: u32 = 28;
/// The packed value of a place kept in [`Numbers::wide`].
const WIDE: u32 = u32::MAX;

/// Every number's first row: a national list's million numbers make this the plan's largest
/// table. A number is split into two `u32`s and its place packed into a third ([`pack`]), so
/// an entry is 12 bytes, not 24; and the numbers are spread over [`SHARDS`] tables by their
/// hash, so that growing one copies a sixty-fourth of them, not the whole table at once.
#[derive(Debug)]
struct Numbers {
    hasher: foldhash::fast::RandomState,
    shards: Vec<HashMap<[u32; 2], u32, foldhash::fast::RandomState>>,
    /// The places too large to pack (a source index past 14 or a row past 2^28), by number.
    wide: HashMap<u64, Place, foldhash::fast::RandomState>,
}

impl Default for Numbers {
    fn default() -> Self {
        Numbers {
            hasher: foldhash::fast::RandomState::default(),
            shards: (0..SHARDS).map(|_| HashMap::default()).collect(),
            wide: HashMap::default(),
        }
    }
}

/// A place in a `u32`, the source's index above the row, or [`WIDE`] when it does not fit.
fn pack((source, row): Place) -> u32 {
    match (u32::try_from(source), u32::try_from(row)) {
        (Ok(s), Ok(r)) if s < (1 << (32 - ROW_BITS)) - 1 && r < (1 << ROW_BITS) => {
            (s << ROW_BITS) | r
        }
        _ => WIDE,
    }
}

impl Numbers {
    fn key(&self, number: u64) -> (usize, [u32; 2]) {
        use std::hash::BuildHasher as _;
        let shard = usize::try_from(self.hasher.hash_one(number) >> 58).unwrap_or(0) % SHARDS;
        #[expect(
            clippy::cast_possible_truncation,
            reason = "the number split in halves"
        )]
        let halves = [(number >> 32) as u32, number as u32];
        (shard, halves)
    }

    /// The first row of `number`, if it was seen.
    fn first_of(&self, number: u64) -> Option<Place> {
        let (shard, key) = self.key(number);
        match *self.shards[shard].get(&key)? {
            WIDE => self.wide.get(&number).copied(),
            packed => Some((
                (packed >> ROW_BITS) as usize,
                u64::from(packed & ((1 << ROW_BITS) - 1)),
            )),
        }
    }

    fn record(&mut self, number: u64, at: Place) {
        let packed = pack(at);
        if packed == WIDE {
            self.wide.insert(number, at);
        }
        let (shard, key) = self.key(number);
        self.shards[shard].insert(key, packed);
    }
}

impl Dedupe {
    /// Records the row at `at` with `number` and, when the campaign dedupes by a column, that
    /// column's value (`Some("")` when the row leaves it blank). Returns the earlier row it
    /// repeats, if any. The first row recorded wins: the planner records only rows it can
    /// call (their number valid, not opted out, their words rendered).
    pub fn see(&mut self, number: u64, column: Option<&str>, at: Place) -> Option<Duplicate> {
        let Some(value) = column else {
            if let Some(first) = self.by_number.first_of(number) {
                return Some(Duplicate::Number(first));
            }
            self.by_number.record(number, at);
            return None;
        };
        let value = value.trim();
        if !value.is_empty() {
            if let Some(first) = self.by_column.get(value) {
                return Some(Duplicate::Column(*first));
            }
            self.by_column.insert(value.to_owned(), at);
        }
        // Two keys must never call one number twice.
        if let Some(first) = self.by_number.first_of(number) {
            return Some(Duplicate::Number(first));
        }
        self.by_number.record(number, at);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_row_of_a_number_wins() {
        let mut d = Dedupe::default();
        assert_eq!(d.see(1, None, (0, 2)), None);
        assert_eq!(d.see(2, None, (0, 3)), None);
        assert_eq!(d.see(1, None, (1, 2)), Some(Duplicate::Number((0, 2))));
    }

    #[test]
    fn places_too_large_to_pack_are_kept_whole() {
        let mut d = Dedupe::default();
        let far = (15, 5);
        let deep = (1, 1 << 28);
        let last = (14, (1 << 28) - 1);
        assert_eq!(d.see(1, None, far), None);
        assert_eq!(d.see(2, None, deep), None);
        assert_eq!(d.see(3, None, last), None);
        assert_eq!(d.see(1, None, (0, 9)), Some(Duplicate::Number(far)));
        assert_eq!(d.see(2, None, (0, 9)), Some(Duplicate::Number(deep)));
        assert_eq!(d.see(3, None, (0, 9)), Some(Duplicate::Number(last)));
        assert_eq!(d.by_number.wide.len(), 2);
    }

    #[test]
    fn a_column_dedupes_and_still_never_calls_a_number_twice() {
        let mut d = Dedupe::default();
        assert_eq!(d.see(1, Some("P1"), (0, 2)), None);
        assert_eq!(
            d.see(2, Some("P1"), (0, 3)),
            Some(Duplicate::Column((0, 2)))
        );
        // Another id, the same number.
        assert_eq!(
            d.see(1, Some("P2"), (0, 4)),
            Some(Duplicate::Number((0, 2)))
        );
        // A blank id is not a key, but its number still counts.
        assert_eq!(d.see(3, Some("  "), (0, 5)), None);
        assert_eq!(d.see(3, Some(""), (0, 6)), Some(Duplicate::Number((0, 5))));
    }
}
