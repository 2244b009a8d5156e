//! Version ordering as the package managers define it.

use std::cmp::Ordering;

/// dpkg's ordering (`dpkg --compare-versions`): epoch, then upstream, then
/// revision, each by `verrevcmp`.
pub fn dpkg_cmp(a: &str, b: &str) -> Ordering {
    let (ea, ua, ra) = split_evr(a);
    let (eb, ub, rb) = split_evr(b);
    ea.cmp(&eb).then_with(|| verrevcmp(ua, ub)).then_with(|| verrevcmp(ra, rb))
}

/// `[epoch:]upstream[-revision]`; a missing or bad epoch is 0.
fn split_evr(v: &str) -> (u64, &str, &str) {
    let (epoch, rest) = match v.split_once(':') {
        Some((e, r)) => (e.trim().parse().unwrap_or(0), r),
        None => (0, v),
    };
    match rest.rsplit_once('-') {
        Some((u, r)) => (epoch, u, r),
        None => (epoch, rest, ""),
    }
}

fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => c as i32,
        Some(b'~') => -1,
        Some(c) => c as i32 + 256,
    }
}

fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let mut first_diff = 0i32;
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ac = order(a.get(i).copied());
            let bc = order(b.get(j).copied());
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        while i < a.len() && a[i].is_ascii_digit() && j < b.len() && b[j].is_ascii_digit() {
            if first_diff == 0 {
                first_diff = a[i] as i32 - b[j] as i32;
            }
            i += 1;
            j += 1;
        }
        if i < a.len() && a[i].is_ascii_digit() {
            return Ordering::Greater;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != 0 {
            return first_diff.cmp(&0);
        }
    }
    Ordering::Equal
}

/// rpm's ordering of `[epoch:]version[-release]` (`rpmvercmp` on each part).
pub fn rpm_cmp(a: &str, b: &str) -> Ordering {
    let (ea, va, ra) = split_evr(a);
    let (eb, vb, rb) = split_evr(b);
    ea.cmp(&eb).then_with(|| rpmvercmp(va, vb)).then_with(|| rpmvercmp(ra, rb))
}

fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    let skip =
        |s: &[u8]| s.iter().position(|&c| c.is_ascii_alphanumeric() || c == b'~' || c == b'^').unwrap_or(s.len());
    loop {
        a = &a[skip(a)..];
        b = &b[skip(b)..];
        if a.first() == Some(&b'~') || b.first() == Some(&b'~') {
            if a.first() != Some(&b'~') {
                return Ordering::Greater;
            }
            if b.first() != Some(&b'~') {
                return Ordering::Less;
            }
            a = &a[1..];
            b = &b[1..];
            continue;
        }
        if a.first() == Some(&b'^') || b.first() == Some(&b'^') {
            if a.is_empty() {
                return Ordering::Less;
            }
            if b.is_empty() {
                return Ordering::Greater;
            }
            if a.first() != Some(&b'^') {
                return Ordering::Greater;
            }
            if b.first() != Some(&b'^') {
                return Ordering::Less;
            }
            a = &a[1..];
            b = &b[1..];
            continue;
        }
        if a.is_empty() || b.is_empty() {
            break;
        }
        let numeric = a[0].is_ascii_digit();
        let seg = |s: &[u8]| {
            s.iter()
                .position(|c| if numeric { !c.is_ascii_digit() } else { !c.is_ascii_alphabetic() })
                .unwrap_or(s.len())
        };
        let (na, nb) = (seg(a), seg(b));
        let (sa, sb) = (&a[..na], &b[..nb]);
        if sb.is_empty() {
            return if numeric { Ordering::Greater } else { Ordering::Less };
        }
        let ord = if numeric {
            let ta = &sa[sa.iter().position(|&c| c != b'0').unwrap_or(sa.len())..];
            let tb = &sb[sb.iter().position(|&c| c != b'0').unwrap_or(sb.len())..];
            ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb))
        } else {
            sa.cmp(sb)
        };
        if ord != Ordering::Equal {
            return ord;
        }
        a = &a[na..];
        b = &b[nb..];
    }
    match (a.is_empty(), b.is_empty()) {
        (true, true) => Ordering::Equal,
        (false, _) => Ordering::Greater,
        _ => Ordering::Less,
    }
}

/// Dot- and dash-separated pieces, numerically where both pieces are numbers.
pub fn plain_cmp(a: &str, b: &str) -> Ordering {
    let mut pa = a.split(['.', '-', '_', '+']);
    let mut pb = b.split(['.', '-', '_', '+']);
    loop {
        match (pa.next(), pb.next()) {
            (None, None) => return Ordering::Equal,
            (Some(_), None) => return Ordering::Greater,
            (None, Some(_)) => return Ordering::Less,
            (Some(x), Some(y)) => {
                let ord = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    _ => x.cmp(y),
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn dpkg_order_matches_dpkg() {
        // Cases from dpkg's own test suite (t-version.c).
        for (a, b, want) in [
            ("1.0", "1.0", Equal),
            ("1.0", "1.0-0", Equal),
            ("1:1.0", "2.0", Greater),
            ("1.0~rc1", "1.0", Less),
            ("1.0", "1.0+b1", Less),
            ("2.30", "2.4", Greater),
            ("1.0-1", "1.0-10", Less),
            ("a", "b", Less),
            ("1.2.13.dfsg-1", "1.2.13.dfsg-1+deb12u1", Less),
        ] {
            assert_eq!(dpkg_cmp(a, b), want, "{a} vs {b}");
        }
    }

    #[test]
    fn rpm_order_matches_rpmvercmp() {
        for (a, b, want) in [
            ("1.0", "1.0", Equal),
            ("1.0", "2.0", Less),
            ("2.0.1", "2.0", Greater),
            ("1.0~rc1", "1.0", Less),
            ("1.0^git1", "1.0", Greater),
            ("1.0a", "1.0", Greater),
            ("1:1.0-1", "2.0-1", Greater),
            ("10", "9", Greater),
        ] {
            assert_eq!(rpm_cmp(a, b), want, "{a} vs {b}");
        }
    }
}
