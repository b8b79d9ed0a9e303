//! Values as `sops -d` prints them: a scalar as text (numbers and booleans
//! the way sops's output format writes them), a mapping as a JSON object,
//! a list as a JSON array.
//!
//! sops is written in Go, so its numbers are Go's: the MAC hashes a float
//! as `strconv.FormatFloat(f, 'f', -1, 64)`, YAML output writes it with
//! `'g'`, JSON output with `encoding/json`'s rule, dotenv output with
//! `'G'`. The functions here produce the same text from Rust's shortest
//! round-trip digits, which are the digits Go's shortest formatting picks.

use std::fmt::Write as _;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::tree::{Format, Node, Scalar};

/// `strconv.FormatFloat(f, 'f', -1, 64)`: shortest digits, no exponent.
pub(crate) fn go_format_f(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    // Rust's Display is the shortest round-trip digits without exponent.
    format!("{f}")
}

/// The shortest round-trip decimal digits of finite `f` (no sign, no
/// leading or trailing zeros; `"0"` for zero) and the exponent of the
/// first digit: `f = ±0.d1d2... × 10^(exp + 1)`, that is `d1.d2... × 10^exp`.
fn shortest_digits(f: f64) -> (String, i32) {
    // `{:e}` gives the shortest round-trip digits as `d.ddde±x`.
    let text = format!("{:e}", f.abs());
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (digits, exponent.parse().unwrap_or(0))
}

/// Go's `%e` body for shortest digits: `d.ddde±XX` (at least two exponent
/// digits).
fn go_e(negative: bool, digits: &str, exp: i32, upper: bool) -> String {
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    let (first, rest) = digits.split_at(1);
    out.push_str(first);
    if !rest.is_empty() {
        out.push('.');
        out.push_str(rest);
    }
    out.push(if upper { 'E' } else { 'e' });
    out.push(if exp < 0 { '-' } else { '+' });
    let _ = write!(out, "{:02}", exp.unsigned_abs());
    out
}

/// `strconv.FormatFloat(f, 'g', -1, 64)` (`'G'` when `upper`): with the
/// shortest precision Go writes `%e` when the exponent is below -4 or at
/// least 6 (`1234567.0` is `1.234567e+06`), `%f` otherwise.
pub(crate) fn go_format_g(f: f64, upper: bool) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let (digits, exp) = shortest_digits(f);
    let negative = f.is_sign_negative();
    if !(-4..6).contains(&exp) {
        return go_e(negative, &digits, exp, upper);
    }
    let mut out = go_format_f(f.abs());
    if negative {
        out.insert(0, '-');
    }
    out
}

/// A float as Go's `encoding/json` writes it: `'f'` between 1e-6 and 1e21,
/// `'e'` outside (with `e-07` shortened to `e-7`). Not-a-number and the
/// infinities, which JSON cannot hold, are written as strings.
fn go_json_float(f: f64) -> String {
    if !f.is_finite() {
        return format!("\"{}\"", go_format_f(f));
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let (digits, exp) = shortest_digits(f);
        let mut out = go_e(f.is_sign_negative(), &digits, exp, false);
        // Go shortens a two-digit negative exponent with a leading zero.
        let n = out.len();
        let bytes = out.as_bytes();
        if n >= 4 && bytes[n - 4] == b'e' && bytes[n - 3] == b'-' && bytes[n - 2] == b'0' {
            out.remove(n - 2);
        }
        return out;
    }
    go_format_f(f)
}

/// A float as sops's YAML output writes it (`'g'`, with YAML's names for
/// the infinities and not-a-number).
fn yaml_float(f: f64) -> String {
    match go_format_g(f, false).as_str() {
        "+Inf" => ".inf".into(),
        "-Inf" => "-.inf".into(),
        "NaN" => ".nan".into(),
        other => other.to_owned(),
    }
}

/// A float as sops's dotenv output writes it (`'G'`, with `.0` added to
/// what would read as an integer).
fn dotenv_float(f: f64) -> String {
    let text = go_format_g(f, true);
    if text.contains('.') || text.contains('E') || !f.is_finite() {
        text
    } else {
        format!("{text}.0")
    }
}

/// What a scalar is served as.
pub(crate) enum Served {
    /// Text.
    Text(String),
    /// Bytes that are not text.
    Bytes(Vec<u8>),
}

/// A scalar as `sops -d --extract` of a file of `format` prints it
/// (without the newline it adds after a non-string).
pub(crate) fn scalar_text(scalar: &Scalar, format: Format) -> Served {
    Served::Text(match scalar {
        Scalar::Null => "null".into(),
        Scalar::Str(s) | Scalar::Time(s) => s.clone(),
        Scalar::Bytes(b) => return Served::Bytes(b.clone()),
        Scalar::Int(i) => i.to_string(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Float(f) => match format {
            Format::Yaml => yaml_float(*f),
            Format::Json => go_json_float(*f),
            Format::Dotenv => dotenv_float(*f),
        },
    })
}

/// A mapping or a list as compact JSON: mappings in document order,
/// numbers as Go's JSON writes them, bytes as base64 (as Go's JSON writes
/// a byte slice).
pub(crate) fn json_text(node: &Node) -> String {
    let mut out = String::new();
    write_json(node, &mut out);
    out
}

fn write_json(node: &Node, out: &mut String) {
    match node {
        Node::Map(entries) => {
            out.push('{');
            for (i, (key, value)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(key, out);
                out.push(':');
                write_json(value, out);
            }
            out.push('}');
        }
        Node::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Node::Scalar(scalar) => match scalar {
            Scalar::Null => out.push_str("null"),
            Scalar::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Scalar::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Scalar::Float(f) => out.push_str(&go_json_float(*f)),
            Scalar::Str(s) | Scalar::Time(s) => write_json_string(s, out),
            Scalar::Bytes(b) => write_json_string(&STANDARD.encode(b), out),
        },
    }
}

/// `s` as a JSON string.
fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_as_go_formats_them() {
        // (value, 'f' -1, 'g' -1, encoding/json)
        let cases: [(f64, &str, &str, &str); 12] = [
            (1.5, "1.5", "1.5", "1.5"),
            (1.0, "1", "1", "1"),
            (0.1, "0.1", "0.1", "0.1"),
            (-2.25, "-2.25", "-2.25", "-2.25"),
            (123456.0, "123456", "123456", "123456"),
            (1234567.0, "1234567", "1.234567e+06", "1234567"),
            (
                1e20,
                "100000000000000000000",
                "1e+20",
                "100000000000000000000",
            ),
            (1e21, "1000000000000000000000", "1e+21", "1e+21"),
            (0.0001, "0.0001", "0.0001", "0.0001"),
            (0.00001, "0.00001", "1e-05", "0.00001"),
            (1e-7, "0.0000001", "1e-07", "1e-7"),
            (1.5e-300, "", "1.5e-300", "1.5e-300"),
        ];
        for (f, fixed, general, json) in cases {
            if !fixed.is_empty() {
                assert_eq!(go_format_f(f), fixed, "{f} 'f'");
            }
            assert_eq!(go_format_g(f, false), general, "{f} 'g'");
            assert_eq!(go_json_float(f), json, "{f} json");
        }
        assert_eq!(go_format_f(f64::INFINITY), "+Inf");
        assert_eq!(yaml_float(f64::NEG_INFINITY), "-.inf");
        assert_eq!(yaml_float(f64::NAN), ".nan");
        assert_eq!(go_format_f(-0.0), "-0");
        assert_eq!(dotenv_float(5.0), "5.0");
        assert_eq!(dotenv_float(1e21), "1E+21");
        assert_eq!(dotenv_float(2.5), "2.5");
    }

    #[test]
    fn mappings_and_lists_are_compact_json_in_order() {
        let node = Node::Map(vec![
            ("z".into(), Node::Scalar(Scalar::Str("q\"\n\u{1}".into()))),
            (
                "a".into(),
                Node::List(vec![
                    Node::Scalar(Scalar::Int(-3)),
                    Node::Scalar(Scalar::Float(1.0)),
                    Node::Scalar(Scalar::Bool(true)),
                    Node::Scalar(Scalar::Null),
                    Node::Scalar(Scalar::Bytes(vec![0xff])),
                ]),
            ),
        ]);
        let text = json_text(&node);
        assert_eq!(text, r#"{"z":"q\"\n\u0001","a":[-3,1,true,null,"/w=="]}"#);
        let parsed: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(parsed["z"], "q\"\n\u{1}");
    }
}
