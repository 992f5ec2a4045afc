//! CPython `str` semantics that Agentless-mini's text handling relies on (`str.strip()`,
//! `str.splitlines()`), so the Rust ports of its parsers split and trim exactly like Python.
//! Reference: CPython `Objects/unicodeobject.c` (`_Py_ascii_whitespace`, `Py_UNICODE_ISLINEBREAK`).

/// `str.isspace()` for one character: Unicode White_Space plus the ASCII separators
/// U+001C..U+001F that CPython also treats as whitespace.
pub(crate) fn is_py_space(c: char) -> bool {
    srl_sandbox::grading::log_parsers::py_space(c)
}

/// `str.strip()` with no argument.
pub(crate) fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// `str.lstrip()` with no argument.
pub(crate) fn py_lstrip(s: &str) -> &str {
    s.trim_start_matches(is_py_space)
}

fn is_line_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{1c}' | '\u{1d}' | '\u{1e}' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// `str.splitlines()` (no `keepends`): splits on every Unicode line boundary, `\r\n` counts as
/// one, and a final line break does not produce an empty last element.
pub(crate) fn py_splitlines(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut iter = s.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if is_line_break(c) {
            out.push(&s[start..i]);
            let mut end = i + c.len_utf8();
            if c == '\r' {
                if let Some(&(j, '\n')) = iter.peek() {
                    end = j + 1;
                    iter.next();
                }
            }
            start = end;
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// Replaces `{name}` placeholders in one left-to-right pass, like `str.format` with keyword
/// arguments for templates that contain no other braces (substituted values are never
/// rescanned).
pub(crate) fn format_template(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + values.iter().map(|(_, v)| v.len()).sum::<usize>());
    let mut rest = template;
    'outer: while let Some(pos) = rest.find('{') {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        for (name, value) in values {
            let key_len = name.len() + 2;
            if tail.len() >= key_len && tail.as_bytes()[key_len - 1] == b'}' && &tail[1..key_len - 1] == *name {
                out.push_str(value);
                rest = &tail[key_len..];
                continue 'outer;
            }
        }
        out.push('{');
        rest = &tail[1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitlines_matches_python() {
        // Expected values from CPython 3.11: "a\r\nb\rc\n\nd\x0be\u2028f\n".splitlines()
        assert_eq!(py_splitlines("a\r\nb\rc\n\nd\u{0b}e\u{2028}f\n"), vec!["a", "b", "c", "", "d", "e", "f"]);
        assert_eq!(py_splitlines(""), Vec::<&str>::new());
        assert_eq!(py_splitlines("\n"), vec![""]);
        assert_eq!(py_splitlines("x"), vec!["x"]);
    }

    #[test]
    fn strip_includes_ascii_separators() {
        assert_eq!(py_strip("\u{1c} a b\t\n"), "a b");
        assert_eq!(py_lstrip("  a "), "a ");
    }

    #[test]
    fn template_substitutes_once() {
        assert_eq!(format_template("A {x} B {y}", &[("x", "{y}"), ("y", "2")]), "A {y} B 2");
        assert_eq!(format_template("{z} {", &[("x", "1")]), "{z} {");
    }
}
