//! Text that comes out of a guest, checked before the host uses it.
//!
//! A guest is hostile by assumption. Its error messages and log lines are
//! shown to operators, so control characters (terminal escapes, newlines
//! that forge log lines, bidirectional overrides) are escaped and the
//! length is capped. Its names become cache keys and CLI output, so they
//! are checked; its values are capped in size.

/// At most this many characters of a guest's message are shown.
pub(crate) const MAX_MESSAGE_CHARS: usize = 300;
/// The largest value a guest may return (AWS allows 64 KiB; this leaves
/// room for any real secret).
pub(crate) const MAX_VALUE_BYTES: usize = 1 << 20;
/// The longest name a guest may return.
pub(crate) const MAX_NAME_BYTES: usize = 4_096;

/// At most this many characters of a guest's trap details (its backtrace,
/// whose function names are the guest's) go to the debug log.
pub(crate) const DEBUG_DETAIL_CHARS: usize = 4_000;

/// `text` with control and direction-changing characters escaped, cut to
/// [`MAX_MESSAGE_CHARS`] characters (saying how much was cut).
pub(crate) fn escaped(text: &str) -> String {
    escaped_at_length(text, MAX_MESSAGE_CHARS)
}

/// As [`escaped`], cut to `max_chars` characters.
pub(crate) fn escaped_at_length(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars + 32));
    // The cap is on what is shown, escapes included (an escape is up to
    // ten characters for one).
    let mut shown = 0;
    for (at, c) in text.char_indices() {
        let width = if needs_escape(c) {
            c.escape_default().count()
        } else {
            1
        };
        if shown + width > max_chars {
            out.push_str(&format!("... ({} more bytes)", text.len() - at));
            break;
        }
        if width == 1 {
            out.push(c);
        } else {
            out.extend(c.escape_default());
        }
        shown += width;
    }
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Why `name` is not acceptable as a secret name, if it is not.
pub(crate) fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        Some("an empty name".to_owned())
    } else if name.len() > MAX_NAME_BYTES {
        Some(format!(
            "a name of {} bytes (at most {MAX_NAME_BYTES})",
            name.len()
        ))
    } else if name.chars().any(needs_escape) {
        Some(format!(
            "the name {:?} with control characters",
            escaped(name)
        ))
    } else {
        None
    }
}

/// Why a value of `len` bytes is refused, if it is.
pub(crate) fn value_problem(len: usize) -> Option<String> {
    (len > MAX_VALUE_BYTES).then(|| format!("a value of {len} bytes (at most {MAX_VALUE_BYTES})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `guest_reply` fuzz target: the cap counted the
    /// characters read, so escapes could make the text ten times longer.
    #[test]
    fn the_cap_counts_escaped_characters() {
        let noisy = "\u{16}".repeat(1_000);
        let shown = escaped(&noisy);
        let (head, tail) = shown.split_once("...").expect("cut");
        assert!(head.chars().count() <= MAX_MESSAGE_CHARS, "{}", head.len());
        assert_eq!(tail, " (950 more bytes)");
        assert!(!shown.chars().any(char::is_control));
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escaped("a\nb\u{1b}[31m"), "a\\nb\\u{1b}[31m");
        assert_eq!(escaped("right\u{202E}left"), "right\\u{202e}left");
    }

    #[test]
    fn long_messages_are_cut_and_say_how_much() {
        let long = "x".repeat(1_000);
        let out = escaped(&long);
        assert!(out.starts_with(&"x".repeat(MAX_MESSAGE_CHARS)));
        assert!(out.ends_with("... (700 more bytes)"), "{out}");
    }

    #[test]
    fn names_must_be_printable_and_bounded() {
        assert!(name_problem("db/password").is_none());
        assert!(name_problem("").is_some());
        assert!(name_problem("a\nb").is_some());
        assert!(name_problem(&"n".repeat(MAX_NAME_BYTES + 1)).is_some());
    }

    #[test]
    fn values_over_the_cap_are_refused() {
        assert!(value_problem(MAX_VALUE_BYTES).is_none());
        assert!(value_problem(MAX_VALUE_BYTES + 1).is_some());
    }
}
