//! Marvin32, the keyed hash Windows puts in transaction-log entries (the
//! algorithm as published with .NET's string hashing). The kernel seeds it
//! with the 64-bit number 0x82EF4D887A4E55C5 (`HvInitializeHashLibrary`);
//! the low half starts the state's first word. The 64-bit result is the two
//! words, high one last, as the log entries store it.

pub const LOG_SEED: u64 = 0x82EF_4D88_7A4E_55C5;

fn block(lo: &mut u32, hi: &mut u32) {
    *hi ^= *lo;
    *lo = lo.rotate_left(20);
    *lo = lo.wrapping_add(*hi);
    *hi = hi.rotate_left(9);
    *hi ^= *lo;
    *lo = lo.rotate_left(27);
    *lo = lo.wrapping_add(*hi);
    *hi = hi.rotate_left(19);
}

pub fn marvin32(seed: u64, data: &[u8]) -> u64 {
    let (mut lo, mut hi) = (seed as u32, (seed >> 32) as u32);
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        lo = lo.wrapping_add(u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
        block(&mut lo, &mut hi);
    }
    let r = words.remainder();
    let last = match r.len() {
        0 => 0x80,
        1 => 0x8000 | r[0] as u32,
        2 => 0x80_0000 | u16::from_le_bytes([r[0], r[1]]) as u32,
        _ => 0x8000_0000 | (r[2] as u32) << 16 | u16::from_le_bytes([r[0], r[1]]) as u32,
    };
    lo = lo.wrapping_add(last);
    block(&mut lo, &mut hi);
    block(&mut lo, &mut hi);
    (hi as u64) << 32 | lo as u64
}
