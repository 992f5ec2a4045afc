//! Answer normalization of the Qwen2.5-Math evaluation (QwenLM/Qwen2.5-Math,
//! `evaluation/parser.py` `strip_string`, docs/method.md §13), step by step in the same order.
//!
//! Deviations, all deliberate and conservative:
//! - Number words: the reference uses `word2number`, which ignores words that are not number
//!   words (`"five apples"` → `5`). Here a string is converted only when it is an ASCII digit
//!   string (`"025"` → `"25"`, as `int()` does) or consists of number words only
//!   (`"twenty one"` → `"21"`); `point` (decimals) is not supported.
//! - The reference's unwrapping of `{x}`, `(x)`, `[x]` around alphanumerics never fires (it
//!   tests `isalnum()` on the string that still has the brackets), and its quote removal
//!   discards its result; both are no-ops here too.
//! - `k = v` keeps `v` only when the short left side is a name, not a number (`10=3k+1`).
//! - Unit words are removed only after a number and a space (`4 feet` → `4`). The reference
//!   removes them wherever they stand alone, and its list holds single letters (`a`, `t`, `h`,
//!   `s`, `m`, `d`, `c`, `g`, `l`, `o`), so `a^2-b^2` became `^2-b^2`.
//! - `x=`, `y=`, `z=`, `x\in`… are removed only where they start a term (see
//!   [`remove_variable_prefix`]), not inside `2x=6`.

use regex::Regex;
use std::sync::OnceLock;

/// Unit words removed by `strip_string` (MathQA units, `parser.py` `unit_texts`); each is also
/// removed with an `s` appended. They are regular-expression fragments, as in the reference
/// (`.` matches any character).
const UNIT_TEXTS: &[&str] = &[
    "east",
    "degree",
    "mph",
    "kmph",
    "ft",
    "m sqaure",
    " m east",
    "sq m",
    "deg",
    "mile",
    "q .",
    "monkey",
    "prime",
    "ratio",
    "profit of rs",
    "rd",
    "o",
    "gm",
    "p . m",
    "lb",
    "tile",
    "per",
    "dm",
    "lt",
    "gain",
    "ab",
    "way",
    "west",
    "a .",
    "b .",
    "c .",
    "d .",
    "e .",
    "f .",
    "g .",
    "h .",
    "t",
    "a",
    "h",
    "no change",
    "men",
    "soldier",
    "pie",
    "bc",
    "excess",
    "st",
    "inches",
    "noon",
    "percent",
    "by",
    "gal",
    "kmh",
    "c",
    "acre",
    "rise",
    "a . m",
    "th",
    "π r 2",
    "sq",
    "mark",
    "l",
    "toy",
    "coin",
    "sq . m",
    "gallon",
    "° f",
    "profit",
    "minw",
    "yr",
    "women",
    "feet",
    "am",
    "pm",
    "hr",
    "cu cm",
    "square",
    "v â € ™",
    "are",
    "rupee",
    "rounds",
    "cubic",
    "cc",
    "mtr",
    "s",
    "ohm",
    "number",
    "kmph",
    "day",
    "hour",
    "minute",
    "min",
    "second",
    "man",
    "woman",
    "sec",
    "cube",
    "mt",
    "sq inch",
    "mp",
    "∏ cm ³",
    "hectare",
    "more",
    "sec",
    "unit",
    "cu . m",
    "cm 2",
    "rs .",
    "rs",
    "kg",
    "g",
    "month",
    "km",
    "m",
    "cm",
    "mm",
    "apple",
    "liter",
    "loss",
    "yard",
    "pure",
    "year",
    "increase",
    "decrease",
    "d",
    "less",
    "Surface",
    "litre",
    "pi sq m",
    "s .",
    "metre",
    "meter",
    "inch",
];

struct Patterns {
    array_begin: Regex,
    array_end: Regex,
    units: Vec<Regex>,
    text_group: Regex,
    mbox: Regex,
    trailing_zeros_mid: Regex,
    trailing_zeros_end: Regex,
    sqrt_word: Regex,
}

fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        // The patterns are constants; a failure here is a programming error caught by every test.
        let re = |p: &str| Regex::new(p).unwrap_or_else(|e| panic!("bad built-in pattern {p:?}: {e}"));
        let mut units = Vec::with_capacity(UNIT_TEXTS.len() * 2);
        for suffix in ["", "s"] {
            for unit in UNIT_TEXTS {
                units.push(re(&format!(r"(\d\s+){unit}{suffix}($|\W)")));
            }
        }
        Patterns {
            array_begin: re(r"\\begin\{array\}\{.*?\}"),
            array_end: re(r"\\end\{array\}"),
            units,
            text_group: re(r"\\text\{(.*?)\}"),
            mbox: re(r"\\mbox\{.*?\}"),
            trailing_zeros_mid: re(r"(\d+)\.0*([^\d])"),
            trailing_zeros_end: re(r"(\d+)\.0*$"),
            sqrt_word: re(r"\\sqrt(\w+)"),
        }
    })
}

/// Normalizes an answer string the Qwen2.5-Math way. `skip_unit` keeps unit words (the
/// reference does so for `minerva_math` and `carp_en`).
pub fn strip_string(input: &str, skip_unit: bool) -> String {
    let p = patterns();
    let mut s = input.trim().replace('\n', "");
    s = s.trim_end_matches('.').to_string();
    s = s.replace("\\!", "");
    s = p.array_begin.replace_all(&s, r"\begin{pmatrix}").into_owned();
    s = p.array_end.replace_all(&s, r"\end{pmatrix}").into_owned();
    s = s.replace("bmatrix", "pmatrix");
    s = s.replace("tfrac", "frac").replace("dfrac", "frac");
    s = s.replace("\\neq", "\\ne").replace("\\leq", "\\le").replace("\\geq", "\\ge");
    s = s.replace("\\left", "").replace("\\right", "");
    s = s.replace("\\{", "{").replace("\\}", "}");
    // A trailing \text{unit}: `re.sub(r"\\text{.*?}$", "", s)` cuts from the first `\text{`
    // when the string ends with `}`; kept only if something remains.
    if s.ends_with('}') {
        if let Some(pos) = s.find("\\text{") {
            let cut = s[..pos].trim();
            if !cut.is_empty() {
                s = cut.to_string();
            }
        }
    }
    if !skip_unit {
        for _ in 0..2 {
            for unit in &p.units {
                let replaced = unit.replace_all(&s, "${1}${2}");
                if !replaced.is_empty() {
                    s = replaced.into_owned();
                }
            }
        }
    }
    s = s.replace("^{\\circ}", "").replace("^\\circ", "");
    s = s.replace("\\$", "").replace('$', "");
    s = s.replace("\\(", "").replace("\\)", "");
    s = convert_word_number(&s);
    s = p.text_group.replace_all(&s, "${1}").into_owned();
    for key in ["x=", "y=", "z=", "x\\in", "y\\in", "z\\in", "x\\to", "y\\to", "z\\to"] {
        s = remove_variable_prefix(&s, key);
    }
    s = s.replace("\\emptyset", "{}");
    s = s.replace("(-\\infty,\\infty)", "\\mathbb{R}");
    s = s.replace("\\%", "").replace('%', "");
    s = s.replace(" .", " 0.").replace("{.", "{0.");
    s = s.replace("infinity", "\\infty");
    if !s.contains("\\infty") {
        s = s.replace("inf", "\\infty");
    }
    s = s.replace("+\\inity", "\\infty");
    s = s.replace("and", "");
    s = s.replace("\\mathbf", "");
    s = p.mbox.replace_all(&s, "").into_owned();
    if s.contains('j') && !s.contains('i') {
        s = s.replace('j', "i");
    }
    s = p.trailing_zeros_mid.replace_all(&s, "${1}${2}").into_owned();
    s = p.trailing_zeros_end.replace_all(&s, "${1}").into_owned();
    if s.is_empty() {
        return s;
    }
    if s.starts_with('.') {
        s.insert(0, '0');
    }
    // "k = v" with a short left side (at most 2 code points): keep v. Departure: only when the
    // left side is a name (`k`, `x1`); the reference also cut `10=3k+1` to `3k+1`.
    let parts: Vec<&str> = s.split('=').collect();
    let is_name = |lhs: &str| {
        let t = lhs.trim();
        t.is_empty() || (t.starts_with(|c: char| c.is_alphabetic()) && t.chars().all(char::is_alphanumeric))
    };
    if parts.len() == 2 && parts[0].chars().count() <= 2 && is_name(parts[0]) {
        s = parts[1].to_string();
    }
    s = p.sqrt_word.replace_all(&s, "\\sqrt{${1}}").into_owned();
    s = s.replace(' ', "");
    s = fix_fracs(&s);
    fix_a_slash_b(&s)
}

/// Removes `key` (`x=`, `x\in`…) where it starts a term: at the start or after a separator.
/// Departure: the reference removes every occurrence, so `2x=6` became `26` and `max=5`
/// became `ma5` (docs/math-grading.md).
fn remove_variable_prefix(s: &str, key: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find(key) {
        let prev = rest[..pos].chars().last().or_else(|| out.chars().last());
        let starts_term = prev.is_none_or(|c| matches!(c, ',' | ';' | '(' | '[' | '{' | ' ' | '\t' | '$'));
        out.push_str(&rest[..pos]);
        if !starts_term {
            out.push_str(key);
        }
        rest = &rest[pos + key.len()..];
    }
    out.push_str(rest);
    out
}

/// `\frac12` → `\frac{1}{2}`, `\frac1{72}` → `\frac{1}{72}`, `\frac{a}b` unchanged.
fn fix_fracs(s: &str) -> String {
    let mut pieces = s.split("\\frac");
    let mut out = pieces.next().unwrap_or_default().to_string();
    for piece in pieces {
        out.push_str("\\frac");
        if piece.starts_with('{') {
            out.push_str(piece);
            continue;
        }
        let mut chars = piece.chars();
        let (Some(a), Some(b)) = (chars.next(), chars.next()) else {
            // Fewer than two characters after \frac: the reference gives up and returns the input.
            return s.to_string();
        };
        let rest = chars.as_str();
        if b == '{' {
            out.push_str(&format!("{{{a}}}{{{rest}"));
        } else {
            out.push_str(&format!("{{{a}}}{{{b}}}{rest}"));
        }
    }
    out
}

/// Whether `s` is what Python's `str(int(s))` gives back (an integer in canonical form).
fn is_canonical_int(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && s != "-0"
}

/// `a/b` with integer (or `sqrt`) parts → `\frac{a}{b}`.
fn fix_a_slash_b(s: &str) -> String {
    let parts: Vec<&str> = s.split('/').collect();
    if parts.len() != 2 {
        return s.to_string();
    }
    let ok = |part: &str| part.contains("sqrt") || is_canonical_int(part);
    if ok(parts[0]) && ok(parts[1]) {
        format!("\\frac{{{}}}{{{}}}", parts[0], parts[1])
    } else {
        s.to_string()
    }
}

const SMALL_NUMBERS: &[(&str, u64)] = &[
    ("zero", 0),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("thirteen", 13),
    ("fourteen", 14),
    ("fifteen", 15),
    ("sixteen", 16),
    ("seventeen", 17),
    ("eighteen", 18),
    ("nineteen", 19),
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fifty", 50),
    ("sixty", 60),
    ("seventy", 70),
    ("eighty", 80),
    ("ninety", 90),
];

/// `convert_word_number`, restricted as the module docs say.
fn convert_word_number(s: &str) -> String {
    let lowered = s.replace('-', " ").to_lowercase();
    if !lowered.is_empty() && lowered.bytes().all(|b| b.is_ascii_digit()) {
        let trimmed = lowered.trim_start_matches('0');
        return if trimmed.is_empty() { "0".into() } else { trimmed.into() };
    }
    let words: Vec<&str> = lowered.split_whitespace().collect();
    if words.is_empty() {
        return s.to_string();
    }
    let (mut total, mut current) = (0u64, 0u64);
    for w in words {
        if let Some(&(_, v)) = SMALL_NUMBERS.iter().find(|(name, _)| *name == w) {
            current += v;
        } else if w == "hundred" {
            current = current.max(1) * 100;
        } else if let Some(scale) = match w {
            "thousand" => Some(1_000u64),
            "million" => Some(1_000_000),
            "billion" => Some(1_000_000_000),
            _ => None,
        } {
            total += current.max(1) * scale;
            current = 0;
        } else {
            return s.to_string();
        }
    }
    (total + current).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected values worked out by hand from the reference's steps.
    #[test]
    fn steps_in_order() {
        let cases: &[(&str, &str)] = &[
            ("  42. ", "42"),
            ("\\dfrac{1}{2}", "\\frac{1}{2}"),
            ("\\tfrac12", "\\frac{1}{2}"),
            ("\\frac1{72}", "\\frac{1}{72}"),
            ("1/2", "\\frac{1}{2}"),
            ("-1/2", "\\frac{-1}{2}"),
            ("01/2", "01/2"),
            ("\\sqrt{2}/2", "\\frac{\\sqrt{2}}{2}"),
            ("\\sqrt3", "\\sqrt{3}"),
            ("10\\%", "10"),
            ("50%", "50"),
            ("\\$5", "5"),
            ("90^\\circ", "90"),
            ("90^{\\circ}", "90"),
            ("5\\text{ cm}", "5"),
            ("\\text{Evelyn}", "Evelyn"),
            ("x=3", "3"),
            ("x=1,x=2", "1,2"),
            ("2x=6", "2x=6"),
            ("10=3k+1", "10=3k+1"),
            ("max=5", "max=5"),
            ("k = 7", "7"),
            ("\\left( 1, 2 \\right)", "(1,2)"),
            ("\\{1,2\\}", "{1,2}"),
            ("27.0", "27"),
            ("27.000", "27"),
            (".5", "0.5"),
            ("3.50", "3.50"),
            ("025", "25"),
            ("five", "5"),
            ("twenty-one", "21"),
            ("a \\neq b", "a\\neb"),
            ("x \\leq 3", "x\\le3"),
            ("\\emptyset", "{}"),
            ("(-\\infty,\\infty)", "\\mathbb{R}"),
            ("infinity", "\\infty"),
            ("3j", "3i"),
            ("\\begin{bmatrix}1&2\\end{bmatrix}", "\\begin{pmatrix}1&2\\end{pmatrix}"),
            ("\\begin{array}{cc}1&2\\end{array}", "\\begin{pmatrix}1&2\\end{pmatrix}"),
            ("\\mbox{m}5", "5"),
            ("10 \\text{ apples}", "10"),
            ("4 feet", "4"),
            ("\\mathbf{v}", "{v}"),
        ];
        for (input, want) in cases {
            assert_eq!(strip_string(input, false), *want, "strip_string({input:?})");
        }
        assert_eq!(strip_string("4 feet", true), "4feet");
    }
}
