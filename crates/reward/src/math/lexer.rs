//! LaTeX lexing for final answers (docs/math-grading.md, "Lexing"): the spacing commands
//! `\,` `\:` `\;` `\!` `\ ` `\quad` `\qquad` (and `~`, `\left`, `\right`, `\displaystyle`…) are
//! space; a doubled backslash before a letter is one backslash (answers copied from escaped
//! strings: `\\sqrt{2}`); digit groups split by a thin space (`730\,968`) are one number; a
//! handful of Unicode symbols (π, ∞, √, ×, ·, −, ±, ≤, ≥) read as their commands.

use super::parser::{FUNCTIONS, GREEK, TEXT_WORDS};

/// One token of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A number: its digits without the point, and how many of them follow the point.
    Num { digits: String, scale: u32, decimal: bool },
    /// One letter (a variable, `e`, or `i`).
    Letter(char),
    /// A control word `\name`.
    Cmd(String),
    /// A single punctuation or operator character.
    Sym(char),
}

/// Longest answer the grader parses (characters); longer ones are compared as strings only.
pub(crate) const MAX_ANSWER_CHARS: usize = 2_000;

/// Control words that only affect layout.
const LAYOUT_WORDS: &[&str] = &[
    "quad",
    "qquad",
    "enspace",
    "thinspace",
    "medspace",
    "thickspace",
    "negthinspace",
    "displaystyle",
    "textstyle",
    "scriptstyle",
    "left",
    "right",
    "big",
    "Big",
    "bigg",
    "Bigg",
    "bigl",
    "bigr",
    "Bigl",
    "Bigr",
    "biggl",
    "biggr",
    "Biggl",
    "Biggr",
    "limits",
    "nolimits",
    "middle",
];

/// Control words of the answer grammar (the parser's, and the ones the structure layer reads).
const GRAMMAR_WORDS: &[&str] = &[
    "frac", "dfrac", "tfrac", "cfrac", "sqrt", "binom", "dbinom", "tbinom", "pi", "infty", "infin", "cdot", "times",
    "ast", "div", "pm", "mp", "le", "ge", "leq", "geq", "lt", "gt", "ne", "neq", "cup", "cap", "in", "to", "circ",
    "lfloor", "rfloor", "lceil", "rceil", "lvert", "rvert", "vert", "mathbb", "begin", "end",
];

fn is_known(word: &str) -> bool {
    LAYOUT_WORDS.contains(&word)
        || GRAMMAR_WORDS.contains(&word)
        || GREEK.contains(&word)
        || FUNCTIONS.contains(&word)
        || TEXT_WORDS.contains(&word)
}

/// Spacing escapes `\,` `\:` `\;` `\!` `\ ` `\>`.
fn is_space_escape(c: char) -> bool {
    matches!(c, ',' | ':' | ';' | '!' | ' ' | '>')
}

/// Tokens of `s`, or `None` when it holds a character outside the answer grammar.
pub(crate) fn lex(s: &str) -> Option<Vec<Tok>> {
    if s.chars().count() > MAX_ANSWER_CHARS {
        return None;
    }
    let chars: Vec<char> = s.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() || c == '~' {
            i += 1;
            continue;
        }
        if c == '\\' {
            // `\\name` → `\name`; a bare `\\` (a row break) is not part of a scalar.
            let mut j = i + 1;
            if chars.get(j) == Some(&'\\') && chars.get(j + 1).is_some_and(|c| c.is_ascii_alphabetic()) {
                j += 1;
            }
            let &next = chars.get(j)?;
            if next.is_ascii_alphabetic() {
                let start = j;
                while chars.get(j).is_some_and(|c| c.is_ascii_alphabetic()) {
                    j += 1;
                }
                let word: String = chars[start..j].iter().collect();
                i = j;
                // `strip_string` removes spaces, so `x \cdot y` arrives as `x\cdoty` and `\pi r` as
                // `\pir`: an unknown word that starts with a known one is that word, then letters.
                if !is_known(&word) {
                    if let Some(known) = (1..word.len()).rev().map(|k| &word[..k]).find(|w| is_known(w)) {
                        let rest: Vec<char> = word[known.len()..].chars().collect();
                        toks.push(Tok::Cmd(known.to_string()));
                        toks.extend(rest.into_iter().map(Tok::Letter));
                        continue;
                    }
                }
                if LAYOUT_WORDS.contains(&word.as_str()) {
                    // `\left.` / `\right.` are invisible delimiters.
                    if (word == "left" || word == "right") && chars.get(i) == Some(&'.') {
                        i += 1;
                    }
                    continue;
                }
                toks.push(Tok::Cmd(word));
                continue;
            }
            i = j + 1;
            match next {
                c if is_space_escape(c) => {}
                '{' | '}' | '|' => toks.push(Tok::Sym(next)),
                '$' => {}
                '%' => toks.push(Tok::Sym('%')),
                _ => return None,
            }
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            i = lex_number(&chars, i, &mut toks);
            continue;
        }
        if c.is_ascii_alphabetic() {
            toks.push(Tok::Letter(c));
            i += 1;
            continue;
        }
        let mapped = match c {
            'π' => Some(Tok::Cmd("pi".into())),
            '∞' => Some(Tok::Cmd("infty".into())),
            '√' => Some(Tok::Cmd("sqrt".into())),
            '×' | '·' | '⋅' => Some(Tok::Cmd("cdot".into())),
            '÷' => Some(Tok::Cmd("div".into())),
            '±' => Some(Tok::Cmd("pm".into())),
            '∓' => Some(Tok::Cmd("mp".into())),
            '≤' => Some(Tok::Cmd("le".into())),
            '≥' => Some(Tok::Cmd("ge".into())),
            '−' | '–' => Some(Tok::Sym('-')),
            '+' | '-' | '*' | '/' | '^' | '_' | '(' | ')' | '[' | ']' | '{' | '}' | ',' | '=' | '<' | '>' | '|'
            | '!' | '&' | '\'' | ':' | ';' | '%' => Some(Tok::Sym(c)),
            _ => None,
        };
        toks.push(mapped?);
        i += 1;
    }
    Some(toks)
}

/// Reads a number at `i` (digits, optional point and digits; thin-space digit groups of
/// exactly three digits continue the integer part) and returns the index after it.
fn lex_number(chars: &[char], mut i: usize, toks: &mut Vec<Tok>) -> usize {
    let mut digits = String::new();
    while chars.get(i).is_some_and(char::is_ascii_digit) {
        digits.push(chars[i]);
        i += 1;
    }
    // `730\,968`, `1\;000\;000`: a spacing escape then exactly three digits.
    loop {
        let mut j = i;
        let mut spaced = false;
        while let Some(&c) = chars.get(j) {
            if c == '\\' && chars.get(j + 1).is_some_and(|&n| matches!(n, ',' | ':' | ';' | ' ' | '!')) {
                j += 2;
                spaced = true;
            } else if c == ' ' || c == '~' {
                j += 1;
                spaced = true;
            } else {
                break;
            }
        }
        let group = chars.get(j..j + 3).is_some_and(|g| g.iter().all(char::is_ascii_digit));
        let ends = !chars.get(j + 3).is_some_and(char::is_ascii_digit);
        if spaced && !digits.is_empty() && group && ends {
            digits.extend(&chars[j..j + 3]);
            i = j + 3;
        } else {
            break;
        }
    }
    let mut scale = 0u32;
    let mut decimal = false;
    if chars.get(i) == Some(&'.') && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
        decimal = true;
        i += 1;
        while chars.get(i).is_some_and(char::is_ascii_digit) {
            digits.push(chars[i]);
            scale += 1;
            i += 1;
        }
    }
    toks.push(Tok::Num { digits, scale, decimal });
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(d: &str, scale: u32) -> Tok {
        Tok::Num { digits: d.into(), scale, decimal: scale > 0 }
    }

    #[test]
    fn spacing_groups_and_escapes() {
        assert_eq!(lex(r"730\,968"), Some(vec![num("730968", 0)]));
        assert_eq!(lex(r"45\,"), Some(vec![num("45", 0)]));
        assert_eq!(lex(r"1\;000\;000.5"), Some(vec![num("10000005", 1)]));
        assert_eq!(lex(r"12\,34"), Some(vec![num("12", 0), num("34", 0)]));
        assert_eq!(lex(r"\\sqrt{2}"), lex(r"\sqrt{2}"));
        assert_eq!(lex(r"\quad x \qquad"), Some(vec![Tok::Letter('x')]));
        assert_eq!(lex(r"\left( x \right.").map(|t| t.len()), Some(2));
        assert_eq!(lex(".5"), Some(vec![num("5", 1)]));
        assert_eq!(lex("π"), Some(vec![Tok::Cmd("pi".into())]));
        assert_eq!(lex("a\\"), None);
        assert_eq!(lex("@"), None);
        let split = vec![Tok::Letter('x'), Tok::Cmd("cdot".into()), Tok::Letter('y')];
        assert_eq!(lex(r"x\cdoty"), Some(split));
        assert_eq!(lex(r"\sinhx"), Some(vec![Tok::Cmd("sinh".into()), Tok::Letter('x')]));
        assert_eq!(lex(r"\pir^2").map(|t| t[..2].to_vec()), Some(vec![Tok::Cmd("pi".into()), Tok::Letter('r')]));
    }
}
