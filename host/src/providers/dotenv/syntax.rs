//! The `.env` syntax, as the README's ".env syntax" section defines it.
//!
//! - `KEY=VALUE` lines; whitespace around key and value is trimmed; a
//!   leading `export ` is dropped; blank lines and `#` lines are skipped.
//! - A line without `=` is skipped with a warning naming its line number
//!   (never its content, which may be a secret).
//! - `'single'` quotes: the inside is kept literally.
//! - `"double"` quotes: `\n \t \r \" \\` are unescaped (other backslashes are
//!   kept), and the value may span lines.
//! - Unquoted: ` #` (whitespace then `#`) starts a comment. After a closing
//!   quote only whitespace and a comment may follow.
//! - The last of duplicate keys wins. There is no `$` expansion.

use super::SecretMap;
use crate::value::SecretText;

/// A line that was skipped, and why (no content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedLine {
    /// 1-based line number.
    pub line: usize,
    /// Why it was skipped.
    pub reason: &'static str,
}

/// The entries of a `.env` file and the lines it skipped.
#[derive(Debug, Default)]
pub struct DotenvEntries {
    /// Key to value; the last of duplicate keys wins.
    pub values: SecretMap<SecretText>,
    /// Lines that were not `KEY=VALUE`.
    pub skipped: Vec<SkippedLine>,
}

/// Parses `.env` text.
pub fn parse_dotenv(text: &str) -> DotenvEntries {
    // Sized up front: a 10,000-line file would otherwise regrow these
    // (and, past the allocator's mmap threshold, map fresh pages) a dozen
    // times each.
    let line_count = text.bytes().filter(|&b| b == b'\n').count() + 1;
    let mut lines: Vec<&str> = Vec::with_capacity(line_count);
    lines.extend(text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)));
    let mut out = DotenvEntries {
        values: SecretMap::with_capacity_and_hasher(line_count, Default::default()),
        skipped: Vec::new(),
    };
    let mut i = 0;
    while i < lines.len() {
        let number = i + 1;
        let line = lines[i].trim();
        i += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = strip_export(line);
        let Some((key, rest)) = line.split_once('=') else {
            out.skipped.push(SkippedLine {
                line: number,
                reason: "no `=`",
            });
            continue;
        };
        let key = key.trim();
        if key.is_empty() {
            out.skipped.push(SkippedLine {
                line: number,
                reason: "empty key",
            });
            continue;
        }
        let resume = i;
        let value = match parse_value(rest, &lines, &mut i) {
            Ok(value) => value,
            Err(reason) => {
                // Skip only this line: a stray quote must not swallow the
                // rest of the file.
                i = resume;
                out.skipped.push(SkippedLine {
                    line: number,
                    reason,
                });
                continue;
            }
        };
        out.values.insert(key.to_owned(), SecretText::new(value));
    }
    out
}

fn strip_export(line: &str) -> &str {
    match line.strip_prefix("export") {
        Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start(),
        _ => line,
    }
}

/// Parses the text after `=`. A double-quoted value may continue on the
/// following lines; `next` is advanced past the lines it consumes.
fn parse_value(rest: &str, lines: &[&str], next: &mut usize) -> Result<String, &'static str> {
    let trimmed = rest.trim_start();
    if let Some(inner) = trimmed.strip_prefix('\'') {
        let end = inner.find('\'').ok_or("unterminated single quote")?;
        check_after_quote(&inner[end + 1..])?;
        return Ok(inner[..end].to_owned());
    }
    if let Some(inner) = trimmed.strip_prefix('"') {
        return parse_double_quoted(inner, lines, next);
    }
    Ok(strip_comment(rest).trim().to_owned())
}

/// Cuts an unquoted value at the first `#` preceded by whitespace.
fn strip_comment(value: &str) -> &str {
    let bytes = value.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && i > 0 && bytes[i - 1].is_ascii_whitespace() {
            return &value[..i];
        }
    }
    value
}

fn check_after_quote(after: &str) -> Result<(), &'static str> {
    let after = after.trim_start();
    if after.is_empty() || after.starts_with('#') {
        Ok(())
    } else {
        Err("text after closing quote")
    }
}

fn parse_double_quoted(
    first: &str,
    lines: &[&str],
    next: &mut usize,
) -> Result<String, &'static str> {
    let mut value = String::new();
    let mut current = first;
    loop {
        let mut chars = current.char_indices();
        while let Some((pos, c)) = chars.next() {
            match c {
                '"' => {
                    check_after_quote(&current[pos + 1..])?;
                    return Ok(value);
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, 't')) => value.push('\t'),
                    Some((_, 'r')) => value.push('\r'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, other)) => {
                        value.push('\\');
                        value.push(other);
                    }
                    None => value.push('\\'),
                },
                c => value.push(c),
            }
        }
        // No closing quote on this line: the value continues on the next.
        let Some(line) = lines.get(*next) else {
            return Err("unterminated double quote");
        };
        *next += 1;
        value.push('\n');
        current = line;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> DotenvEntries {
        parse_dotenv(text)
    }

    fn get<'a>(e: &'a DotenvEntries, key: &str) -> Option<&'a str> {
        e.values.get(key).map(SecretText::expose)
    }

    #[test]
    fn whitespace_around_key_and_value_is_trimmed() {
        let e = parse("  KEY  =  value  \n");
        assert_eq!(get(&e, "KEY"), Some("value"));
    }

    #[test]
    fn leading_export_is_dropped() {
        let e = parse("export KEY=1\nexport\tTAB=2\nexported=3\n");
        assert_eq!(get(&e, "KEY"), Some("1"));
        assert_eq!(get(&e, "TAB"), Some("2"));
        assert_eq!(get(&e, "exported"), Some("3"));
    }

    #[test]
    fn blank_and_comment_lines_are_skipped_silently() {
        let e = parse("\n# comment=1\n   \n  # indented=2\nA=1\n");
        assert_eq!(e.values.len(), 1);
        assert!(e.skipped.is_empty());
    }

    #[test]
    fn line_without_equals_is_skipped_with_its_line_number() {
        let e = parse("A=1\nthis is not a pair\nB=2\n");
        assert_eq!(e.values.len(), 2);
        assert_eq!(
            e.skipped,
            [SkippedLine {
                line: 2,
                reason: "no `=`"
            }]
        );
    }

    #[test]
    fn single_quotes_keep_the_inside_literally() {
        let e = parse(r#"A='raw \n "x" # not a comment'"#);
        assert_eq!(get(&e, "A"), Some(r#"raw \n "x" # not a comment"#));
    }

    #[test]
    fn double_quotes_unescape_the_five_escapes() {
        let e = parse(r#"A="l1\nl2\tt\rr\"q\\b\x""#);
        assert_eq!(get(&e, "A"), Some("l1\nl2\tt\rr\"q\\b\\x"));
    }

    #[test]
    fn double_quoted_value_may_span_lines() {
        let e = parse("KEY=\"-----BEGIN KEY-----\nabc\n-----END KEY-----\"\nNEXT=1\n");
        assert_eq!(
            get(&e, "KEY"),
            Some("-----BEGIN KEY-----\nabc\n-----END KEY-----")
        );
        assert_eq!(get(&e, "NEXT"), Some("1"));
    }

    #[test]
    fn unquoted_space_hash_starts_a_comment() {
        let e = parse("A=value # comment\nB=val#ue\nC= #only comment\nD=x\t# tab\n");
        assert_eq!(get(&e, "A"), Some("value"));
        assert_eq!(get(&e, "B"), Some("val#ue"));
        assert_eq!(get(&e, "C"), Some(""));
        assert_eq!(get(&e, "D"), Some("x"));
    }

    #[test]
    fn only_whitespace_and_a_comment_may_follow_a_closing_quote() {
        let e = parse("A='x'  # fine\nB=\"y\" # fine\nC='x' junk\nD=\"y\"junk\n");
        assert_eq!(get(&e, "A"), Some("x"));
        assert_eq!(get(&e, "B"), Some("y"));
        assert_eq!(get(&e, "C"), None);
        assert_eq!(get(&e, "D"), None);
        let lines: Vec<usize> = e.skipped.iter().map(|s| s.line).collect();
        assert_eq!(lines, [3, 4]);
    }

    #[test]
    fn last_duplicate_key_wins() {
        let e = parse("A=first\nA=second\n");
        assert_eq!(get(&e, "A"), Some("second"));
    }

    #[test]
    fn dollar_signs_are_never_expanded() {
        let e = parse("A=$HOME\nB=\"${HOME}\"\nC=${HOME:-x}\n");
        assert_eq!(get(&e, "A"), Some("$HOME"));
        assert_eq!(get(&e, "B"), Some("${HOME}"));
        assert_eq!(get(&e, "C"), Some("${HOME:-x}"));
    }

    #[test]
    fn crlf_line_endings_are_accepted() {
        let e = parse("A=1\r\nB=\"x\r\ny\"\r\n");
        assert_eq!(get(&e, "A"), Some("1"));
        assert_eq!(get(&e, "B"), Some("x\ny"));
    }

    #[test]
    fn unterminated_quotes_skip_the_entry() {
        let e = parse("A='open\nB=\"never closed\nC=1\n");
        assert_eq!(get(&e, "A"), None);
        assert_eq!(get(&e, "B"), None);
        assert_eq!(get(&e, "C"), Some("1"));
        assert_eq!(e.skipped.len(), 2);
    }

    #[test]
    fn value_may_contain_equals() {
        let e = parse("URL=postgres://u:p@h/db?sslmode=require\n");
        assert_eq!(get(&e, "URL"), Some("postgres://u:p@h/db?sslmode=require"));
    }
}
