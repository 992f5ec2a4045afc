//! Recursive-descent parser of the answer expression grammar (docs/math-grading.md,
//! "Expressions"): numbers, variables (with subscripts), `\pi`, `e`, `i`, `+ - * /`, `\cdot`,
//! `\times`, `\div`, implicit products, `^` (nested, negative), `\frac`/`\dfrac`/`\tfrac`/`\cfrac`,
//! `\sqrt[n]{}`, `!`, `\binom`, `|x|`, `\lfloor`/`\lceil`, named functions (`\sin`, `\log_b`…) as
//! uninterpreted functions, `\pm`/`\mp`, `\infty`. Anything else fails to parse, and the grader
//! then falls back to string comparison. Nesting is bounded, so no input overflows the stack.

use super::lexer::{lex, Tok};

/// An answer expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    /// A literal: digits without the point, digits after the point, whether it was written
    /// with a point (a decimal is an approximation, see docs/math-grading.md).
    Num {
        digits: String,
        scale: u32,
        decimal: bool,
    },
    /// A variable, `\pi` ("pi") or `e`: an indeterminate.
    Sym(String),
    /// The imaginary unit `i`.
    Imag,
    /// `\infty`.
    Infinity,
    Add(Vec<Expr>),
    Neg(Box<Expr>),
    Mul(Vec<Expr>),
    Div(Box<Expr>, Box<Expr>),
    Pow(Box<Expr>, Box<Expr>),
    /// `\sqrt[index]{radicand}`.
    Root(Box<Expr>, Box<Expr>),
    /// A named function: `sin`, `log` (argument, then base), `abs`, `floor`, `ceil`, `binom`.
    Func(String, Vec<Expr>),
    Factorial(Box<Expr>),
    /// A term after `\pm` (false) or `\mp` (true); expanded before comparison.
    Pm(Box<Expr>, bool),
}

/// Nesting limit of the parser.
const MAX_DEPTH: usize = 100;

pub(crate) const GREEK: &[&str] = &[
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "varepsilon",
    "zeta",
    "eta",
    "theta",
    "vartheta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "varphi",
    "chi",
    "psi",
    "omega",
    "Gamma",
    "Delta",
    "Theta",
    "Lambda",
    "Xi",
    "Sigma",
    "Phi",
    "Psi",
    "Omega",
];

pub(crate) const FUNCTIONS: &[&str] = &[
    "sin", "cos", "tan", "sec", "csc", "cot", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan", "log", "ln", "lg",
    "exp", "det",
];

/// Commands whose braced argument is read as ordinary content.
pub(crate) const TEXT_WORDS: &[&str] = &[
    "text",
    "textrm",
    "textbf",
    "textit",
    "mathrm",
    "mathbf",
    "mathit",
    "mathsf",
    "mathtt",
    "boldsymbol",
    "mbox",
    "operatorname",
    "bm",
];

/// Parses one expression (the whole of `s`).
pub(crate) fn parse_expr(s: &str) -> Option<Expr> {
    let toks = lex(s)?;
    if toks.is_empty() {
        return None;
    }
    let mut p = Parser { toks, pos: 0, depth: 0, abs_depth: 0 };
    let e = p.expr()?;
    (p.pos == p.toks.len()).then_some(e)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
    abs_depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn is_sym(&self, c: char) -> bool {
        self.peek() == Some(&Tok::Sym(c))
    }

    fn is_cmd(&self, name: &str) -> bool {
        matches!(self.peek(), Some(Tok::Cmd(n)) if n == name)
    }

    fn eat_sym(&mut self, c: char) -> bool {
        let hit = self.is_sym(c);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn eat_cmd(&mut self, name: &str) -> bool {
        let hit = self.is_cmd(name);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// `term (('+' | '-' | \pm | \mp) term)*` with an optional leading sign.
    fn expr(&mut self) -> Option<Expr> {
        self.enter()?;
        let mut terms = Vec::new();
        let mut first = true;
        loop {
            let sign = if self.eat_sym('+') {
                Some('+')
            } else if self.eat_sym('-') {
                Some('-')
            } else if self.eat_cmd("pm") {
                Some('p')
            } else if self.eat_cmd("mp") {
                Some('m')
            } else {
                None
            };
            if sign.is_none() && !first {
                break;
            }
            let t = self.term()?;
            terms.push(match sign {
                Some('-') => Expr::Neg(Box::new(t)),
                Some('p') => Expr::Pm(Box::new(t), false),
                Some('m') => Expr::Pm(Box::new(t), true),
                _ => t,
            });
            first = false;
        }
        self.leave();
        Some(if terms.len() == 1 { terms.pop()? } else { Expr::Add(terms) })
    }

    /// Factors joined by `*`, `\cdot`, `\times`, `/`, `\div` or juxtaposition.
    fn term(&mut self) -> Option<Expr> {
        self.enter()?;
        let mut factors = vec![self.signed_factor()?];
        loop {
            if self.eat_sym('*') || self.eat_cmd("cdot") || self.eat_cmd("times") || self.eat_cmd("ast") {
                factors.push(self.signed_factor()?);
            } else if self.eat_sym('/') || self.eat_cmd("div") {
                let den = self.signed_factor()?;
                let num = if factors.len() == 1 { factors.pop()? } else { Expr::Mul(std::mem::take(&mut factors)) };
                factors.push(Expr::Div(Box::new(num), Box::new(den)));
            } else if self.starts_atom() {
                factors.push(self.postfix()?);
            } else {
                break;
            }
        }
        self.leave();
        Some(if factors.len() == 1 { factors.pop()? } else { Expr::Mul(factors) })
    }

    /// A factor after an explicit operator may carry its own sign (`2 \cdot -3`).
    fn signed_factor(&mut self) -> Option<Expr> {
        if self.eat_sym('-') {
            self.enter()?;
            let f = self.signed_factor()?;
            self.leave();
            return Some(Expr::Neg(Box::new(f)));
        }
        if self.eat_sym('+') {
            return self.signed_factor();
        }
        self.postfix()
    }

    fn starts_atom(&self) -> bool {
        match self.peek() {
            Some(Tok::Num { .. } | Tok::Letter(_)) => true,
            Some(Tok::Sym(c)) => matches!(c, '(' | '[' | '{') || (*c == '|' && self.abs_depth == 0),
            Some(Tok::Cmd(name)) => !matches!(
                name.as_str(),
                "cdot"
                    | "times"
                    | "ast"
                    | "div"
                    | "pm"
                    | "mp"
                    | "le"
                    | "ge"
                    | "leq"
                    | "geq"
                    | "lt"
                    | "gt"
                    | "ne"
                    | "neq"
                    | "cup"
                    | "cap"
                    | "in"
                    | "to"
                    | "rfloor"
                    | "rceil"
                    | "rvert"
                    | "circ"
            ),
            None => false,
        }
    }

    /// An atom followed by `^`, `_` (on names) and `!`.
    fn postfix(&mut self) -> Option<Expr> {
        self.enter()?;
        let mut base = self.atom()?;
        loop {
            if self.eat_sym('^') {
                // `^\circ`, `^{\circ}`: degrees, which are not a power.
                if self.eat_cmd("circ") {
                    continue;
                }
                if self.is_sym('{') && self.toks.get(self.pos + 1) == Some(&Tok::Cmd("circ".into())) {
                    self.pos += 2;
                    if !self.eat_sym('}') {
                        return None;
                    }
                    continue;
                }
                let exp = self.exponent()?;
                base = Expr::Pow(Box::new(base), Box::new(exp));
            } else if self.eat_sym('!') {
                base = Expr::Factorial(Box::new(base));
            } else {
                break;
            }
        }
        self.leave();
        Some(base)
    }

    /// The exponent: a braced expression, or one (signed) atom; a whole number is one token.
    fn exponent(&mut self) -> Option<Expr> {
        self.enter()?;
        let e = if self.eat_sym('-') {
            Expr::Neg(Box::new(self.exponent()?))
        } else if self.eat_sym('+') {
            self.exponent()?
        } else {
            let a = self.atom()?;
            if self.eat_sym('^') {
                Expr::Pow(Box::new(a), Box::new(self.exponent()?))
            } else {
                a
            }
        };
        self.leave();
        Some(e)
    }

    /// A `{…}` group's expression.
    fn braced(&mut self) -> Option<Expr> {
        if !self.eat_sym('{') {
            return None;
        }
        let e = self.expr()?;
        self.eat_sym('}').then_some(e)
    }

    /// A macro argument: a braced group or a single token (`\frac12`: one digit of a number).
    fn argument(&mut self) -> Option<Expr> {
        if self.is_sym('{') {
            return self.braced();
        }
        if let Some(Tok::Num { digits, scale: 0, .. }) = self.peek() {
            if digits.len() > 1 {
                let first = digits[..1].to_string();
                let rest = digits[1..].to_string();
                self.toks[self.pos] = Tok::Num { digits: rest, scale: 0, decimal: false };
                return Some(Expr::Num { digits: first, scale: 0, decimal: false });
            }
        }
        self.atom()
    }

    /// Raw text of a subscript, for variable names (`x_1`, `a_{n+1}`).
    fn subscript_text(&mut self) -> Option<String> {
        let render = |t: &Tok| match t {
            Tok::Num { digits, scale, .. } => {
                let cut = digits.len() - *scale as usize;
                if *scale == 0 {
                    digits.clone()
                } else {
                    format!("{}.{}", &digits[..cut], &digits[cut..])
                }
            }
            Tok::Letter(c) | Tok::Sym(c) => c.to_string(),
            Tok::Cmd(n) => format!("\\{n} "),
        };
        if self.eat_sym('{') {
            let mut depth = 1usize;
            let mut out = String::new();
            while let Some(t) = self.toks.get(self.pos).cloned() {
                self.pos += 1;
                match t {
                    Tok::Sym('{') => depth += 1,
                    Tok::Sym('}') => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(out);
                        }
                    }
                    _ => {}
                }
                out.push_str(&render(&t));
            }
            return None;
        }
        let t = self.toks.get(self.pos).cloned()?;
        self.pos += 1;
        Some(render(&t))
    }

    /// A name with an optional subscript.
    fn name(&mut self, base: String) -> Option<Expr> {
        if self.eat_sym('_') {
            let sub = self.subscript_text()?;
            return Some(Expr::Sym(format!("{base}_{sub}")));
        }
        Some(Expr::Sym(base))
    }

    fn group(&mut self, close: char) -> Option<Expr> {
        let e = self.expr()?;
        self.eat_sym(close).then_some(e)
    }

    fn atom(&mut self) -> Option<Expr> {
        self.enter()?;
        let tok = self.peek()?.clone();
        self.pos += 1;
        let e = match tok {
            Tok::Num { digits, scale, decimal } => Expr::Num { digits, scale, decimal },
            Tok::Letter('i') if !self.is_sym('_') => Expr::Imag,
            Tok::Letter(c) => self.name(c.to_string())?,
            Tok::Sym('(') => self.group(')')?,
            Tok::Sym('[') => self.group(']')?,
            Tok::Sym('{') => self.group('}')?,
            Tok::Sym('|') => {
                self.abs_depth += 1;
                let inner = self.group('|');
                self.abs_depth -= 1;
                Expr::Func("abs".into(), vec![inner?])
            }
            Tok::Cmd(name) => self.command(&name)?,
            Tok::Sym(_) => return None,
        };
        self.leave();
        Some(e)
    }

    fn command(&mut self, name: &str) -> Option<Expr> {
        Some(match name {
            "frac" | "dfrac" | "tfrac" | "cfrac" => {
                let num = self.argument()?;
                let den = self.argument()?;
                Expr::Div(Box::new(num), Box::new(den))
            }
            "sqrt" => {
                let index = if self.eat_sym('[') {
                    self.group(']')?
                } else {
                    Expr::Num { digits: "2".into(), scale: 0, decimal: false }
                };
                let radicand = self.argument()?;
                Expr::Root(Box::new(index), Box::new(radicand))
            }
            "binom" | "dbinom" | "tbinom" => {
                let n = self.argument()?;
                let k = self.argument()?;
                Expr::Func("binom".into(), vec![n, k])
            }
            "pi" => Expr::Sym("pi".into()),
            "infty" | "infin" => Expr::Infinity,
            "lvert" | "vert" => {
                self.abs_depth += 1;
                let inner = self.expr();
                self.abs_depth -= 1;
                let inner = inner?;
                if !(self.eat_cmd("rvert") || self.eat_cmd("vert")) {
                    return None;
                }
                Expr::Func("abs".into(), vec![inner])
            }
            "lfloor" | "lceil" => {
                let inner = self.expr()?;
                let close = if name == "lfloor" { "rfloor" } else { "rceil" };
                if !self.eat_cmd(close) {
                    return None;
                }
                Expr::Func(name[1..].to_string(), vec![inner])
            }
            w if TEXT_WORDS.contains(&w) => self.braced()?,
            w if GREEK.contains(&w) => self.name(w.to_string())?,
            w if FUNCTIONS.contains(&w) => self.function(w)?,
            _ => return None,
        })
    }

    /// `\sin x`, `\sin(x)`, `\sin^2 x`, `\sin^{-1} x` (arcsin), `\log_2 x`, `\exp(x)` (= e^x).
    fn function(&mut self, name: &str) -> Option<Expr> {
        let mut name = name.to_string();
        let mut base = None;
        if name == "log" && self.eat_sym('_') {
            base = Some(self.argument()?);
        }
        let mut power = None;
        if self.eat_sym('^') {
            let p = self.exponent()?;
            if p == Expr::Neg(Box::new(Expr::Num { digits: "1".into(), scale: 0, decimal: false })) {
                name = format!("arc{name}");
            } else {
                power = Some(p);
            }
        }
        let arg = if self.is_sym('(') || self.is_sym('{') {
            self.atom()?
        } else {
            // An unparenthesized argument: the product of the following atoms (`\sin 2x`).
            let mut factors = vec![self.postfix()?];
            while self.starts_atom() && !matches!(self.peek(), Some(Tok::Cmd(n)) if FUNCTIONS.contains(&n.as_str())) {
                factors.push(self.postfix()?);
            }
            if factors.len() == 1 {
                factors.pop()?
            } else {
                Expr::Mul(factors)
            }
        };
        let applied = match (name.as_str(), base) {
            ("exp", _) => Expr::Pow(Box::new(Expr::Sym("e".into())), Box::new(arg)),
            ("ln", _) => Expr::Func("log".into(), vec![arg, Expr::Sym("e".into())]),
            (_, Some(b)) => Expr::Func(name, vec![arg, b]),
            ("log" | "lg", None) => {
                Expr::Func("log".into(), vec![arg, Expr::Num { digits: "10".into(), scale: 0, decimal: false }])
            }
            _ => Expr::Func(name, vec![arg]),
        };
        Some(match power {
            Some(p) => Expr::Pow(Box::new(applied), Box::new(p)),
            None => applied,
        })
    }
}

/// Whether an expression holds `\pm`/`\mp`.
pub(crate) fn has_pm(e: &Expr) -> bool {
    let mut found = false;
    visit(e, &mut |x| found |= matches!(x, Expr::Pm(..)));
    found
}

/// Calls `f` on every node.
pub(crate) fn visit(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    match e {
        Expr::Add(v) | Expr::Mul(v) | Expr::Func(_, v) => v.iter().for_each(|x| visit(x, f)),
        Expr::Neg(a) | Expr::Factorial(a) | Expr::Pm(a, _) => visit(a, f),
        Expr::Div(a, b) | Expr::Pow(a, b) | Expr::Root(a, b) => {
            visit(a, f);
            visit(b, f);
        }
        Expr::Num { .. } | Expr::Sym(_) | Expr::Imag | Expr::Infinity => {}
    }
}

/// The two readings of an expression with `\pm`/`\mp` (all `\pm` take one sign, `\mp` the other).
pub(crate) fn expand_pm(e: &Expr) -> [Expr; 2] {
    [choose_sign(e, false), choose_sign(e, true)]
}

fn choose_sign(e: &Expr, minus: bool) -> Expr {
    let map = |v: &Vec<Expr>| v.iter().map(|x| choose_sign(x, minus)).collect();
    let b = |a: &Expr| Box::new(choose_sign(a, minus));
    match e {
        Expr::Pm(a, flipped) => {
            if minus != *flipped {
                Expr::Neg(b(a))
            } else {
                choose_sign(a, minus)
            }
        }
        Expr::Add(v) => Expr::Add(map(v)),
        Expr::Mul(v) => Expr::Mul(map(v)),
        Expr::Func(n, v) => Expr::Func(n.clone(), map(v)),
        Expr::Neg(a) => Expr::Neg(b(a)),
        Expr::Factorial(a) => Expr::Factorial(b(a)),
        Expr::Div(x, y) => Expr::Div(b(x), b(y)),
        Expr::Pow(x, y) => Expr::Pow(b(x), b(y)),
        Expr::Root(x, y) => Expr::Root(b(x), b(y)),
        leaf => leaf.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(d: &str) -> Expr {
        Expr::Num { digits: d.into(), scale: 0, decimal: false }
    }

    #[test]
    fn shapes() {
        let x = || Expr::Sym("x".into());
        assert_eq!(parse_expr("2x"), Some(Expr::Mul(vec![n("2"), x()])));
        assert_eq!(parse_expr(r"\frac12"), Some(Expr::Div(Box::new(n("1")), Box::new(n("2")))));
        assert_eq!(parse_expr("x^23"), Some(Expr::Pow(Box::new(x()), Box::new(n("23")))));
        assert_eq!(parse_expr("45^\\circ"), Some(n("45")));
        assert_eq!(parse_expr("x_{1}"), Some(Expr::Sym("x_1".into())));
        assert!(parse_expr(r"\sin^{-1}x").is_some_and(|e| matches!(e, Expr::Func(ref f, _) if f == "arcsin")));
        assert!(parse_expr("1+").is_none());
        assert!(parse_expr(r"\sum_{k}k").is_none());
        assert!(parse_expr(&"(".repeat(10_000)).is_none());
        assert!(parse_expr(&"-".repeat(10_000)).is_none());
    }
}
