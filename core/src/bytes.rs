//! Byte-string equality for hot paths: slice `==` calls `memcmp`, which on wasm32
//! compares byte by byte, so there the bytes are compared eight at a time instead.

/// Equal byte strings: `memcmp` where it is fast.
#[cfg(not(target_arch = "wasm32"))]
#[inline(always)]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    a == b
}

/// Equal byte strings, compared eight bytes at a time.
#[cfg(target_arch = "wasm32")]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    by_words(a, b)
}

/// Equal byte strings, compared eight bytes at a time (also tested natively).
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn by_words(a: &[u8], b: &[u8]) -> bool {
    let word = |bytes: &[u8]| bytes.try_into().map_or(0, u64::from_le_bytes);
    let len = a.len();
    if len != b.len() {
        return false;
    }
    if len < 8 {
        return a.iter().zip(b).all(|(x, y)| x == y);
    }
    let (x, y) = (a.chunks_exact(8), b.chunks_exact(8));
    // The last eight bytes (overlapping the words before) cover what the words leave.
    x.zip(y).all(|(p, q)| word(p) == word(q))
        && word(a.get(len - 8..).unwrap_or_default()) == word(b.get(len - 8..).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    #[test]
    fn by_words_is_slice_equality() {
        for len in 0..40usize {
            let a: Vec<u8> = (0..len as u8).collect();
            assert!(super::by_words(&a, &a.clone()), "{len}");
            for at in 0..len {
                let mut b = a.clone();
                if let Some(byte) = b.get_mut(at) {
                    *byte ^= 0x80;
                }
                assert!(!super::by_words(&a, &b), "{len} {at}");
            }
            assert!(
                !super::by_words(&a, &[a.as_slice(), &[0]].concat()),
                "{len}"
            );
        }
    }
}
