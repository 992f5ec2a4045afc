//! The shape of an answer and element-wise comparison (docs/math-grading.md, "Structures"):
//! matrices (`\begin{pmatrix}`), unions of intervals (`\cup`), tuples and intervals (brackets
//! kept: `(a,b]` is not `[a,b)`), sets (`\{a,b\}`, unordered), bare comma lists (solution
//! lists, unordered), equations, `\pm` (two values), and scalars. Unlike the reference, a
//! comma never truncates an answer: `-5` is not `-5,-3`.

use super::equality::{equations_equivalent, expressions_equal, inequalities_equivalent};
use super::parser::{expand_pm, has_pm, parse_expr, visit, Expr};

/// Most elements of one tuple, set or matrix the grader compares.
const MAX_ITEMS: usize = 64;
/// Nesting limit of structures.
const MAX_NESTING: usize = 8;

/// A parsed answer.
#[derive(Debug, Clone)]
pub(crate) enum Answer {
    Scalar(Expr),
    Equation(Expr, Expr),
    /// `lhs < rhs` (strict) or `lhs ≤ rhs`, with `>`/`≥` turned around.
    Inequality(Expr, bool, Expr),
    /// `(a, b]`, `[a, b]`, `(a, b, c)`: the opening and closing bracket and the items.
    Tuple(char, char, Vec<Answer>),
    /// An unordered collection: `\{a, b\}`, `a \pm b`.
    Set(Vec<Answer>),
    /// A bare comma list `a, b`: unordered against lists and sets (solution lists), in order
    /// against a parenthesized tuple (a pair written without its parentheses).
    List(Vec<Answer>),
    Union(Vec<Answer>),
    Matrix(Vec<Vec<Answer>>),
    /// Outside the grammar: compared as normalized text only.
    Text(String),
}

/// Splits `s` at top-level occurrences of `sep` (outside (), [], {} — any of `(`/`[` closes with
/// any of `)`/`]`, so intervals balance — and outside `\begin…\end`).
fn split_top<'a>(s: &'a str, sep: &str) -> Vec<&'a str> {
    let mut parts = Vec::new();
    let (mut depth, mut env, mut start) = (0i32, 0i32, 0usize);
    let mut skip_to = 0usize;
    for (i, c) in s.char_indices() {
        if i < skip_to {
            continue;
        }
        let rest = &s[i..];
        if rest.starts_with("\\begin") {
            env += 1;
        } else if rest.starts_with("\\end") {
            env -= 1;
        }
        match c {
            // `\(` `\[` (math delimiters) and `\,` `\;` (spacing) are escapes, not brackets or
            // separators.
            '\\' if rest[1..].chars().next().is_some_and(|n| !n.is_ascii_alphabetic()) => {
                skip_to = i + 2;
                continue;
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
        if depth == 0 && env == 0 && i >= start && rest.starts_with(sep) {
            parts.push(&s[start..i]);
            start = i + sep.len();
            skip_to = start;
        }
    }
    parts.push(&s[start.min(s.len())..]);
    parts
}

/// Whether the bracket opening at 0 closes at the last character.
fn encloses(s: &str, openers: &[u8], closers: &[u8]) -> bool {
    let b = s.as_bytes();
    if b.len() < 2 || !openers.contains(&b[0]) || !closers.contains(&b[b.len() - 1]) {
        return false;
    }
    let mut depth = 0i32;
    for (i, c) in b.iter().enumerate() {
        if openers.contains(c) {
            depth += 1;
        } else if closers.contains(c) {
            depth -= 1;
            if depth == 0 {
                return i == b.len() - 1;
            }
        }
    }
    false
}

/// Whether `s` is a number with thousands separators (`1,234,567.5`).
fn is_digit_grouped(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let groups: Vec<&str> = int.split(',').collect();
    groups.len() > 1
        && (1..=3).contains(&groups[0].len())
        && groups.iter().all(|g| g.bytes().all(|c| c.is_ascii_digit()))
        && groups[1..].iter().all(|g| g.len() == 3)
        && frac.bytes().all(|c| c.is_ascii_digit())
}

/// Removes `\left`/`\right` and the invisible `\left.`, and reads `\{` `\}` as braces, so
/// brackets are plain characters.
fn strip_sizing(s: &str) -> String {
    s.replace("\\left.", "")
        .replace("\\right.", "")
        .replace("\\left", "")
        .replace("\\right", "")
        .replace("\\{", "{")
        .replace("\\}", "}")
}

/// Parses an answer.
pub(crate) fn parse_answer(s: &str) -> Answer {
    parse_at(&strip_sizing(s), 0)
}

fn parse_at(s: &str, depth: usize) -> Answer {
    let s = s.trim();
    let text = || Answer::Text(s.to_string());
    if depth > MAX_NESTING || s.is_empty() {
        return text();
    }
    let d = depth + 1;
    if let Some(rows) = matrix_rows(s) {
        if rows.len() > MAX_ITEMS {
            return text();
        }
        return Answer::Matrix(rows.iter().map(|r| r.iter().map(|c| parse_at(c, d)).collect()).collect());
    }
    let union = split_top(s, "\\cup");
    if union.len() > 1 {
        return collection(&union, d, Answer::Union);
    }
    let items = split_top(s, ",");
    if items.len() > 1 {
        if is_digit_grouped(s) {
            return parse_at(&s.replace(',', ""), d);
        }
        return collection(&items, d, Answer::List);
    }
    if encloses(s, b"([", b")]") {
        let inner = &s[1..s.len() - 1];
        let items = split_top(inner, ",");
        let (open, close) = (s.as_bytes()[0] as char, s.as_bytes()[s.len() - 1] as char);
        if items.len() > 1 {
            if items.len() > MAX_ITEMS {
                return text();
            }
            return Answer::Tuple(open, close, items.iter().map(|i| parse_at(i, d)).collect());
        }
        if open == '(' && close == ')' || open == '[' && close == ']' {
            return parse_at(inner, d);
        }
        return text();
    }
    if encloses(s, b"{", b"}") {
        let inner = &s[1..s.len() - 1];
        let items = split_top(inner, ",");
        if items.len() > 1 {
            return collection(&items, d, Answer::Set);
        }
        return parse_at(inner, d);
    }
    // `x \in [a, b]`: the set is the answer.
    if let Some((name, rest)) = s.split_once("\\in") {
        let name = name.trim();
        if name.len() == 1
            && name.chars().all(|c| c.is_ascii_alphabetic())
            && !rest.starts_with(|c: char| c.is_ascii_alphabetic())
        {
            return parse_at(rest, d);
        }
    }
    if let Some(answer) = inequality(s) {
        return answer;
    }
    let sides = split_top(s, "=");
    if sides.len() == 2 {
        return match (parse_expr(sides[0]), parse_expr(sides[1])) {
            (Some(l), Some(r)) if !has_pm(&l) && !has_pm(&r) => Answer::Equation(l, r),
            _ => text(),
        };
    }
    if sides.len() > 2 {
        return text();
    }
    match parse_expr(s) {
        Some(e) if has_pm(&e) => Answer::Set(expand_pm(&e).into_iter().map(Answer::Scalar).collect()),
        Some(e) => Answer::Scalar(e),
        None => text(),
    }
}

/// One inequality `a < b`, `a \le b`, `a > b`, `a \ge b` (also `\leq`, `\geq`, `≤`, `≥`).
fn inequality(s: &str) -> Option<Answer> {
    const OPS: &[(&str, bool, bool)] = &[
        // (operator, strict, flipped)
        ("\\leq", false, false),
        ("\\geq", false, true),
        ("\\le", false, false),
        ("\\ge", false, true),
        ("\\lt", true, false),
        ("\\gt", true, true),
        ("≤", false, false),
        ("≥", false, true),
        ("<", true, false),
        (">", true, true),
    ];
    for &(op, strict, flipped) in OPS {
        let parts = split_top(s, op);
        if parts.len() < 2 {
            continue;
        }
        // A letter may follow (`5\gex`: `strip_string` removed the space); `\leq` and `\geq`
        // come first in the list, and `\left` is gone by now.
        if parts.len() > 2 {
            return Some(Answer::Text(s.to_string()));
        }
        let (l, r) = (parse_expr(parts[0])?, parse_expr(parts[1])?);
        if has_pm(&l) || has_pm(&r) {
            return None;
        }
        return Some(if flipped { Answer::Inequality(r, strict, l) } else { Answer::Inequality(l, strict, r) });
    }
    None
}

fn collection(parts: &[&str], depth: usize, make: fn(Vec<Answer>) -> Answer) -> Answer {
    if parts.len() > MAX_ITEMS || parts.iter().any(|p| p.trim().is_empty()) {
        return Answer::Text(parts.join(","));
    }
    make(parts.iter().map(|p| parse_at(p, depth)).collect())
}

/// Cells of `\begin{pmatrix}…\end{pmatrix}` (also bmatrix, matrix, vmatrix): rows split on
/// `\\`, cells on `&`.
fn matrix_rows(s: &str) -> Option<Vec<Vec<String>>> {
    let rest = s.strip_prefix("\\begin{")?;
    let (env, body) = rest.split_once('}')?;
    if !matches!(env, "pmatrix" | "bmatrix" | "matrix" | "vmatrix" | "Bmatrix") {
        return None;
    }
    let body = body.strip_suffix(&format!("\\end{{{env}}}"))?;
    if body.contains("\\begin") {
        return None;
    }
    let rows: Vec<Vec<String>> = body
        .split("\\\\")
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| r.split('&').map(|c| c.trim().to_string()).collect())
        .collect();
    (!rows.is_empty()).then_some(rows)
}

/// Whether an answer is ±∞ (interval ends where the bracket does not matter).
fn is_infinite(a: &Answer) -> bool {
    matches!(a, Answer::Scalar(e) if matches!(e, Expr::Infinity) || matches!(e, Expr::Neg(x) if **x == Expr::Infinity))
}

fn normalize_text(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace() && !matches!(c, '{' | '}')).flat_map(char::to_lowercase).collect()
}

/// Whether the left-hand side is one variable (`x`, `y_1`), so `x = v` may stand for `v`.
fn is_variable(e: &Expr) -> bool {
    matches!(e, Expr::Sym(name) if name != "pi" && name != "e")
}

/// Names of the variables of an expression (not π or e).
fn variables(e: &Expr) -> Vec<String> {
    let mut names = Vec::new();
    visit(e, &mut |x| {
        if let Expr::Sym(n) = x {
            if n != "pi" && n != "e" && !names.contains(n) {
                names.push(n.clone());
            }
        }
    });
    names
}

/// `strip_string` drops a leading `y=` (as the reference does), so `y=2x+1` arrives as `2x+1`:
/// a bare expression s matches an equation when the equation is `v = s` rearranged, for a
/// variable v of the equation that s does not contain (`2x+1` vs `2x-y+1=0`).
fn solved_for_dropped_variable(l: &Expr, r: &Expr, s: &Expr) -> bool {
    let in_s = variables(s);
    let mut candidates = variables(l);
    candidates.extend(variables(r));
    candidates.dedup();
    candidates
        .iter()
        .filter(|v| !in_s.contains(v))
        .take(4)
        .any(|v| equations_equivalent(l, r, &Expr::Sym(v.clone()), s))
}

/// Whether two parsed answers are equal (see the module docs).
pub(crate) fn answers_equal(a: &Answer, b: &Answer) -> bool {
    use Answer::*;
    match (a, b) {
        (Scalar(x), Scalar(y)) => expressions_equal(x, y),
        (Equation(l1, r1), Equation(l2, r2)) => equations_equivalent(l1, r1, l2, r2),
        (Equation(l, r), Scalar(s)) | (Scalar(s), Equation(l, r)) => {
            (is_variable(l) && expressions_equal(r, s)) || solved_for_dropped_variable(l, r, s)
        }
        (Inequality(l1, s1, r1), Inequality(l2, s2, r2)) => s1 == s2 && inequalities_equivalent(l1, r1, l2, r2),
        (Tuple(o1, c1, x), Tuple(o2, c2, y)) => {
            x.len() == y.len()
                && (o1 == o2 || is_infinite(&x[0]))
                && (c1 == c2 || is_infinite(&x[x.len() - 1]))
                && x.iter().zip(y).all(|(p, q)| answers_equal(p, q))
        }
        (Set(x) | List(x), Set(y) | List(y)) | (Union(x), Union(y)) => same_elements(x, y),
        (List(x), Tuple('(', ')', y)) | (Tuple('(', ')', y), List(x)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| answers_equal(p, q))
        }
        (Matrix(x), Matrix(y)) => {
            x.len() == y.len()
                && x.iter().zip(y).all(|(r, s)| r.len() == s.len() && r.iter().zip(s).all(|(p, q)| answers_equal(p, q)))
        }
        (Text(x), Text(y)) => normalize_text(x) == normalize_text(y),
        _ => false,
    }
}

/// Set equality: every element of each side equals some element of the other.
fn same_elements(x: &[Answer], y: &[Answer]) -> bool {
    let covered = |from: &[Answer], to: &[Answer]| from.iter().all(|p| to.iter().any(|q| answers_equal(p, q)));
    covered(x, y) && covered(y, x)
}
