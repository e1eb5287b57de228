//! RFC 8785 JSON Canonicalization Scheme (JCS): the one text of a JSON value.
//!
//! An audit event's `detail` is MAC'd as this text, so the text must not
//! depend on how the map was built nor on the JSON library's version:
//! - object members sorted by their names' UTF-16 code units;
//! - no whitespace;
//! - strings with only `"`, `\` and control characters escaped (`\b \f \n
//!   \r \t`, else `\u00xx` in lowercase hex); everything else literal;
//! - numbers as IEEE-754 doubles written as ECMAScript's `Number.toString`
//!   does (shortest digits that round-trip; `1e+21`, `1e-7`, `0.000001`).
//!
//! Integers are numbers like any other: the double nearest to them.

use std::fmt::Write as _;

use serde_json::{Map, Number, Value};

/// Deepest nesting of arrays and objects accepted.
pub(super) const MAX_DEPTH: usize = 32;

/// Why a value has no canonical text.
pub(super) type Why = &'static str;

/// The canonical text of `value`.
#[cfg(test)]
pub(super) fn canonical(value: &Value) -> Result<String, Why> {
    let mut out = String::new();
    write_value(value, 0, &mut out)?;
    Ok(out)
}

/// The canonical text of an object (an event's detail).
pub(super) fn canonical_object(map: &Map<String, Value>) -> Result<String, Why> {
    let mut out = String::new();
    write_object(map, 0, &mut out)?;
    Ok(out)
}

fn write_value(value: &Value, depth: usize, out: &mut String) -> Result<(), Why> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(n, out)?,
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            if depth >= MAX_DEPTH {
                return Err("nested deeper than 32 levels");
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, depth + 1, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => write_object(map, depth, out)?,
    }
    Ok(())
}

fn write_object(map: &Map<String, Value>, depth: usize, out: &mut String) -> Result<(), Why> {
    if depth >= MAX_DEPTH {
        return Err("nested deeper than 32 levels");
    }
    let mut members: Vec<(&String, &Value)> = map.iter().collect();
    members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
    out.push('{');
    for (i, (name, item)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(name, out);
        out.push(':');
        write_value(item, depth + 1, out)?;
    }
    out.push('}');
    Ok(())
}

/// A JSON string with JCS escaping.
pub(super) fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_number(n: &Number, out: &mut String) -> Result<(), Why> {
    // Every JSON number is a double (RFC 8785 §3.2.2.3): an integer is the
    // double nearest to it, as any JSON reader takes it. `append` refuses
    // integers beyond ±2^53 so that nothing it stores is rounded.
    let x = if let Some(u) = n.as_u64() {
        u as f64
    } else if let Some(i) = n.as_i64() {
        i as f64
    } else {
        n.as_f64().ok_or("number that is not a double")?
    };
    write_f64(x, out)
}

/// The shortest decimal digits that read back as `x > 0` and the decimal
/// exponent of the first: `x ≈ 0.d1d2…dk × 10^n`. Among several shortest
/// strings the nearest to `x`, and of two equally near the even one
/// (ECMA-262 Number::toString, note 2, which RFC 8785 requires).
fn shortest_digits(x: f64) -> Result<(String, i32), Why> {
    const FORMAT: Why = "unexpected float format";
    fn split(sci: &str) -> Result<(String, i32), Why> {
        let (mantissa, exponent) = sci.split_once('e').ok_or(FORMAT)?;
        let exponent: i32 = exponent.parse().map_err(|_| FORMAT)?;
        Ok((
            mantissa.chars().filter(|c| *c != '.').collect(),
            exponent + 1,
        ))
    }
    // Rust's `{:e}` without a precision gives the shortest round-tripping
    // digits, the nearest to x, but breaks an exact tie upwards.
    let (digits, n) = split(&format!("{x:e}"))?;
    let k = digits.len();
    if digits.as_bytes()[k - 1] % 2 == 0 {
        return Ok((digits, n));
    }
    // A tie: x's exact expansion (at most 767 significant digits) is the
    // first k digits followed by 5000…
    let (exact, n_exact) = split(&format!("{x:.800e}"))?;
    if n_exact != n
        || exact.as_bytes().get(k) != Some(&b'5')
        || exact[k + 1..].bytes().any(|b| b != b'0')
    {
        return Ok((digits, n));
    }
    let truncated = &exact[..k];
    let other = if truncated == digits {
        // Rust rounded down; the other candidate is one unit up.
        let mut up = truncated.as_bytes().to_vec();
        let mut i = k;
        loop {
            if i == 0 {
                // 99…9 + 1: a shorter string exists, so this was no tie.
                return Ok((digits, n));
            }
            i -= 1;
            if up[i] == b'9' {
                up[i] = b'0';
            } else {
                up[i] += 1;
                break;
            }
        }
        String::from_utf8(up).map_err(|_| FORMAT)?
    } else {
        truncated.to_owned()
    };
    // The even candidate is used only if it also reads back as x.
    let reads_back = format!("0.{other}e{n}").parse::<f64>() == Ok(x);
    let other = other.trim_end_matches('0');
    if reads_back && !other.is_empty() && other.len() == k {
        Ok((other.to_owned(), n))
    } else {
        Ok((digits, n))
    }
}

/// ECMAScript `Number.prototype.toString` of a finite double (RFC 8785 §3.2.2.3).
pub(super) fn write_f64(x: f64, out: &mut String) -> Result<(), Why> {
    if !x.is_finite() {
        return Err("non-finite number");
    }
    if x == 0.0 {
        // Both zeros.
        out.push('0');
        return Ok(());
    }
    if x < 0.0 {
        out.push('-');
    }
    let (digits, n) = shortest_digits(x.abs())?;
    let k = i32::try_from(digits.len()).map_err(|_| "unexpected float format")?;
    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.push_str(&"0".repeat((n - k) as usize));
    } else if 0 < n && n <= 21 {
        out.push_str(&digits[..n as usize]);
        out.push('.');
        out.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-n) as usize));
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let e = n - 1;
        let _ = write!(
            out,
            "e{}{}",
            if e < 0 { '-' } else { '+' },
            e.unsigned_abs()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn num(x: f64) -> String {
        let mut s = String::new();
        write_f64(x, &mut s).unwrap();
        s
    }

    #[test]
    fn rfc8785_appendix_b_numbers() {
        let vectors: &[(u64, &str)] = &[
            (0x0000000000000000, "0"),
            (0x8000000000000000, "0"),
            (0x0000000000000001, "5e-324"),
            (0x8000000000000001, "-5e-324"),
            (0x7fefffffffffffff, "1.7976931348623157e+308"),
            (0xffefffffffffffff, "-1.7976931348623157e+308"),
            (0x4340000000000000, "9007199254740992"),
            (0xc340000000000000, "-9007199254740992"),
            (0x4430000000000000, "295147905179352830000"),
            (0x44b52d02c7e14af5, "9.999999999999997e+22"),
            (0x44b52d02c7e14af6, "1e+23"),
            (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
            (0x444b1ae4d6e2ef4e, "999999999999999700000"),
            (0x444b1ae4d6e2ef4f, "999999999999999900000"),
            (0x444b1ae4d6e2ef50, "1e+21"),
            (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
            (0x3eb0c6f7a0b5ed8d, "0.000001"),
            (0x41b3de4355555553, "333333333.3333332"),
            (0x41b3de4355555554, "333333333.33333325"),
            (0x41b3de4355555555, "333333333.3333333"),
            (0x41b3de4355555556, "333333333.3333334"),
            (0x41b3de4355555557, "333333333.33333343"),
            (0xbecbf647612f3696, "-0.0000033333333333333333"),
            (0x43143ff3c1cb0959, "1424953923781206.2"),
        ];
        for &(bits, want) in vectors {
            assert_eq!(num(f64::from_bits(bits)), want, "{bits:016x}");
        }
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(write_f64(bad, &mut String::new()).is_err());
        }
    }

    #[test]
    fn simple_numbers() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(0.5), "0.5");
        assert_eq!(num(-12.25), "-12.25");
        assert_eq!(num(1e-7), "1e-7");
        assert_eq!(num(123e18), "123000000000000000000");
        assert_eq!(num(0.1 + 0.2), "0.30000000000000004");
    }

    #[test]
    #[allow(clippy::excessive_precision)] // The RFC's input text, verbatim.
    fn rfc8785_section_3_2_4_example() {
        // The input of RFC 8785 §3.2.4 (its numbers as doubles) and the
        // output given there.
        let v = json!({
            "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
            "string": "\u{20ac}$\u{f}\nA'B\"\\\\\"/",
            "literals": [null, true, false]
        });
        assert_eq!(
            canonical(&v).unwrap(),
            "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],\
             \"string\":\"\u{20ac}$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}"
        );
    }

    #[test]
    fn member_names_sort_by_utf16_code_units() {
        // RFC 8785 §3.2.3: U+1F600 (surrogates D83D DE00) sorts before
        // U+FB33 in UTF-16 although it is after it in UTF-8 and code points.
        let v = json!({"\u{fb33}": 1, "\u{1f600}": 2, "b": 3, "a": 4, "\r": 5});
        assert_eq!(
            canonical(&v).unwrap(),
            "{\"\\r\":5,\"a\":4,\"b\":3,\"\u{1f600}\":2,\"\u{fb33}\":1}"
        );
    }

    #[test]
    fn integers_are_doubles() {
        assert_eq!(
            canonical(&json!(9007199254740992u64)).unwrap(),
            "9007199254740992"
        );
        assert_eq!(
            canonical(&json!(9007199254740993u64)).unwrap(),
            "9007199254740992"
        );
        assert_eq!(
            canonical(&json!(1u64 << 60)).unwrap(),
            "1152921504606847000"
        );
        assert_eq!(canonical(&json!(u64::MAX)).unwrap(), "18446744073709552000");
        assert_eq!(canonical(&json!(i64::MIN)).unwrap(), "-9223372036854776000");
        assert_eq!(canonical(&json!(-42)).unwrap(), "-42");
        // Stable: the text of a rounded integer reads back to itself.
        for text in [
            "1152921504606847000",
            "18446744073709552000",
            "-9223372036854776000",
        ] {
            let v: Value = serde_json::from_str(text).unwrap();
            assert_eq!(canonical(&v).unwrap(), text);
        }
    }

    #[test]
    fn ties_round_to_even() {
        // Exactly halfway between two shortest candidates.
        let tie = f64::from_bits(0x43143ff3c1cb0959);
        assert_eq!(format!("{tie:.2}"), "1424953923781206.25");
        assert_eq!(
            format!("{tie:e}"),
            "1.4249539237812063e15",
            "Rust rounds the tie up"
        );
        assert_eq!(num(tie), "1424953923781206.2");
        assert_eq!(num(5e-324), "5e-324");
        // Not ties: the nearest wins whatever its parity.
        assert_eq!(num(0.3), "0.3");
        assert_eq!(num(2.0 / 3.0), "0.6666666666666666");
    }

    #[test]
    fn depth_is_bounded() {
        let mut v = json!(1);
        for _ in 0..MAX_DEPTH {
            v = json!([v]);
        }
        assert!(canonical(&v).is_ok());
        assert!(canonical(&json!([v])).is_err());
    }

    #[test]
    fn canonical_text_parses_back_to_itself() {
        // With serde_json's float_roundtrip, parse(canonical) is canonical
        // again: the property verification relies on.
        use proptest::prelude::*;
        proptest!(|(bits in any::<u64>())| {
            let x = f64::from_bits(bits);
            prop_assume!(x.is_finite());
            let text = canonical(&json!([x])).unwrap();
            let back: Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(&canonical(&back).unwrap(), &text);
            let y = back[0].as_f64().unwrap();
            prop_assert!(y == x, "{} read back as {}", text, y);
        });
    }
}
