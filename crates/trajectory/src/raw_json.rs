//! A scanner of SWE-smith `messages` JSON text that keeps user and tool texts in their escaped
//! form (docs/prepare.md, "Speed").
//!
//! Most of a `tool`-split row is observation text, which `prepare` copies into instance lines
//! JSON-escaped again. Decoding it (`serde_json`) only to re-escape it costs several passes and
//! allocations per text; here [`scan`] walks the JSON once, validating it, and hands user and
//! tool `content` over as slices of the escaped input. [`canonical`] rewrites such a slice into
//! exactly the escaping `serde_json` writes (`\"`, `\\`, `\b \f \n \r \t`, `\u00xx` for other
//! control characters, everything else as UTF-8: Python's `\uXXXX` escapes of non-ASCII text are
//! decoded), so an instance line built from it is byte for byte the one `serde_json` would write.
//!
//! The scanner is a fast path, not a second parser: it answers `None` for anything outside the
//! shape it knows (a key with escapes, a repeated key it reads, a value of an unexpected type, a
//! lone surrogate, nesting deeper than 100, a raw control character in a string, invalid JSON),
//! and the caller then takes the `serde_json` path of [`crate::messages`], which decides how such
//! input is read or reported. Where it answers, it reads what that path reads.

use crate::messages::{Arguments, Call, Calls, Content, Function, Msg};
use serde_json::Value;
use std::borrow::Cow;

/// `content` of a message as escaped slices (inside the quotes).
#[derive(Debug)]
pub(crate) enum RawContent<'a> {
    Text(&'a str),
    Blocks(Vec<&'a str>),
    Empty,
}

/// One scanned message.
#[derive(Debug)]
pub(crate) struct RawMsg<'a> {
    pub(crate) role: Option<Cow<'a, str>>,
    pub(crate) content: RawContent<'a>,
    thought: Option<&'a str>,
    tool_calls: Calls<'a>,
}

impl<'a> RawMsg<'a> {
    /// The message with its texts decoded (for assistant turns, whose text is parsed).
    pub(crate) fn into_msg(self) -> Msg<'a> {
        let content = match self.content {
            RawContent::Text(t) => Content::Text(unescape(t)),
            RawContent::Blocks(b) => Content::Blocks(b.into_iter().map(unescape).collect()),
            RawContent::Empty => Content::Empty,
        };
        Msg { role: self.role, content, thought: self.thought.map(unescape), tool_calls: self.tool_calls }
    }
}

/// Scans a `messages` JSON text; `None` when the `serde_json` path must read it.
pub(crate) fn scan(text: &str) -> Option<Vec<RawMsg<'_>>> {
    let mut p = Scanner { s: text.as_bytes(), text, i: 0 };
    p.eat(b'[')?;
    let mut out = Vec::new();
    if p.peek()? == b']' {
        p.i += 1;
    } else {
        loop {
            out.push(p.message()?);
            match p.next()? {
                b',' => {}
                b']' => break,
                _ => return None,
            }
        }
    }
    p.ws();
    (p.i == p.s.len()).then_some(out)
}

const MAX_DEPTH: usize = 100;

struct Scanner<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
}

/// Whether a string byte needs a look: a quote, a backslash or a control character.
fn special(b: u8) -> bool {
    b == b'"' || b == b'\\' || b < 0x20
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether a byte of `x` is below `n` (n <= 128; the bit-trick "hasless").
fn has_less(x: u64, n: u8) -> bool {
    x.wrapping_sub(ONES * u64::from(n)) & !x & HIGHS != 0
}

/// Whether a byte of `x` equals `b`.
fn has_byte(x: u64, b: u8) -> bool {
    has_less(x ^ (ONES * u64::from(b)), 1)
}

fn word(s: &[u8], i: usize) -> Option<u64> {
    s.get(i..i + 8).map(|w| u64::from_le_bytes(w.try_into().unwrap_or([0; 8])))
}

/// The first position at or after `i` holding a [`special`] byte (or the end), eight bytes at a
/// time.
fn find_special(s: &[u8], mut i: usize) -> usize {
    while let Some(x) = word(s, i) {
        if has_byte(x, b'"') || has_byte(x, b'\\') || has_less(x, 0x20) {
            break;
        }
        i += 8;
    }
    while i < s.len() && !special(s[i]) {
        i += 1;
    }
    i
}

/// The first backslash at or after `i` (or the end).
fn find_backslash(s: &[u8], mut i: usize) -> usize {
    while let Some(x) = word(s, i) {
        if has_byte(x, b'\\') {
            break;
        }
        i += 8;
    }
    while i < s.len() && s[i] != b'\\' {
        i += 1;
    }
    i
}

fn hex4(s: &[u8]) -> Option<u32> {
    let digits = s.get(..4)?;
    digits.iter().try_fold(0u32, |acc, &d| Some(acc * 16 + (d as char).to_digit(16)?))
}

/// The code point of the `\u` escape at `s[0..]` (just after the `\u`) and the bytes it takes
/// (4, or 10 for a surrogate pair); `None` for bad hex or a lone surrogate.
fn unicode_escape(s: &[u8]) -> Option<(u32, usize)> {
    let c = hex4(s)?;
    match c {
        0xD800..=0xDBFF => {
            if s.get(4..6)? != b"\\u" {
                return None;
            }
            let lo = hex4(&s[6..])?;
            if !(0xDC00..=0xDFFF).contains(&lo) {
                return None;
            }
            Some((0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00), 10))
        }
        0xDC00..=0xDFFF => None,
        _ => Some((c, 4)),
    }
}

impl<'a> Scanner<'a> {
    fn ws(&mut self) {
        while matches!(self.s.get(self.i), Some(b' ' | b'\n' | b'\t' | b'\r')) {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.i += 1;
        Some(b)
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }

    /// A string at the cursor: its escaped text between the quotes (escapes validated).
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        loop {
            self.i = find_special(self.s, self.i);
            match *self.s.get(self.i)? {
                b'"' => {
                    let raw = &self.text[start..self.i];
                    self.i += 1;
                    return Some(raw);
                }
                b'\\' => match *self.s.get(self.i + 1)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 2,
                    b'u' => self.i += 2 + unicode_escape(&self.s[self.i + 2..])?.1,
                    _ => return None,
                },
                _ => return None,
            }
        }
    }

    /// A key without escapes, and the colon after it.
    fn key(&mut self) -> Option<&'a str> {
        let k = self.string()?;
        self.eat(b':')?;
        (!k.contains('\\')).then_some(k)
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.s.get(self.i..self.i + word.len())? != word {
            return None;
        }
        self.i += word.len();
        Some(())
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Option<()> {
        if self.s.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        match self.s.get(self.i)? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.s.get(self.i) == Some(&b'.') {
            self.i += 1;
            (self.digits() > 0).then_some(())?;
        }
        if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.s.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            (self.digits() > 0).then_some(())?;
        }
        Some(())
    }

    /// Skips one value (validating it).
    fn skip(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' => {
                self.i += 1;
                if self.peek()? == b'}' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.string()?;
                    self.eat(b':')?;
                    self.skip(depth + 1)?;
                    match self.next()? {
                        b',' => {}
                        b'}' => return Some(()),
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.i += 1;
                if self.peek()? == b']' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.skip(depth + 1)?;
                    match self.next()? {
                        b',' => {}
                        b']' => return Some(()),
                        _ => return None,
                    }
                }
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number(),
        }
    }

    /// Whether the value at the cursor is `null` (and consumes it).
    fn null(&mut self) -> Option<bool> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            return Some(true);
        }
        Some(false)
    }

    /// An optional string: `null` or a string.
    fn opt_string(&mut self) -> Option<Option<&'a str>> {
        if self.null()? {
            return Some(None);
        }
        (self.peek()? == b'"').then_some(())?;
        self.string().map(Some)
    }

    /// The members of an object, each handed to `member` with its key; `member` must consume
    /// the value.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            let k = self.key()?;
            member(self, k)?;
            match self.next()? {
                b',' => {}
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }

    /// The elements of an array, each handed to `element`.
    fn array(&mut self, mut element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            element(self)?;
            match self.next()? {
                b',' => {}
                b']' => return Some(()),
                _ => return None,
            }
        }
    }

    fn message(&mut self) -> Option<RawMsg<'a>> {
        let (mut role, mut content, mut thought, mut calls) = (None, None, None, None);
        self.object(|p, k| match k {
            "role" if role.is_none() => {
                role = Some(p.opt_string()?.map(unescape));
                Some(())
            }
            "content" if content.is_none() => {
                content = Some(p.content()?);
                Some(())
            }
            "thought" if thought.is_none() => {
                thought = Some(p.opt_string()?);
                Some(())
            }
            "tool_calls" if calls.is_none() => {
                calls = Some(p.tool_calls()?);
                Some(())
            }
            "role" | "content" | "thought" | "tool_calls" => None,
            _ => p.skip(1),
        })?;
        Some(RawMsg {
            role: role.flatten(),
            content: content.unwrap_or(RawContent::Empty),
            thought: thought.flatten(),
            tool_calls: calls.unwrap_or(Calls::None),
        })
    }

    fn content(&mut self) -> Option<RawContent<'a>> {
        match self.peek()? {
            b'n' => self.literal(b"null").map(|()| RawContent::Empty),
            b'"' => self.string().map(RawContent::Text),
            b'[' => {
                let mut blocks = Vec::new();
                self.array(|p| match p.peek()? {
                    b'"' => {
                        blocks.push(p.string()?);
                        Some(())
                    }
                    b'{' => {
                        let mut text = None;
                        p.object(|p, k| match k {
                            "text" if text.is_none() => {
                                (p.peek()? == b'"').then_some(())?;
                                text = Some(p.string()?);
                                Some(())
                            }
                            "text" => None,
                            _ => p.skip(3),
                        })?;
                        blocks.extend(text);
                        Some(())
                    }
                    _ => None,
                })?;
                Some(RawContent::Blocks(blocks))
            }
            _ => None,
        }
    }

    fn tool_calls(&mut self) -> Option<Calls<'a>> {
        if self.null()? {
            return Some(Calls::None);
        }
        let mut list = Vec::new();
        self.array(|p| {
            let mut function = None;
            p.object(|p, k| match k {
                "function" if function.is_none() => {
                    function = Some(p.function()?);
                    Some(())
                }
                "function" => None,
                _ => p.skip(3),
            })?;
            list.push(Call { function });
            Some(())
        })?;
        Some(Calls::List(list))
    }

    fn function(&mut self) -> Option<Function<'a>> {
        let (mut name, mut arguments) = (None, None);
        self.object(|p, k| match k {
            "name" if name.is_none() => {
                name = Some(p.opt_string()?.map(unescape));
                Some(())
            }
            "arguments" if arguments.is_none() => {
                arguments = Some(match p.peek()? {
                    b'n' => p.literal(b"null").map(|()| Arguments::None)?,
                    b'"' => Arguments::Text(unescape(p.string()?)),
                    b'{' => {
                        let start = p.i;
                        p.skip(4)?;
                        Arguments::Object(serde_json::from_str::<Value>(&p.text[start..p.i]).ok()?)
                    }
                    _ => return None,
                });
                Some(())
            }
            "name" | "arguments" => None,
            _ => p.skip(4),
        })?;
        Some(Function { name: name.flatten(), arguments: arguments.unwrap_or(Arguments::None) })
    }
}

/// The text of an escaped slice that [`scan`] validated.
fn unescape(raw: &str) -> Cow<'_, str> {
    let b = raw.as_bytes();
    let first = find_backslash(b, 0);
    if first == b.len() {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    let mut j = first;
    loop {
        out.push_str(&raw[i..j]);
        if j == b.len() {
            return Cow::Owned(out);
        }
        let (c, len) = match b[j + 1] {
            b'u' => {
                let (cp, n) = unicode_escape(&b[j + 2..]).unwrap_or((0xFFFD, 4));
                (char::from_u32(cp).unwrap_or('\u{FFFD}'), 2 + n)
            }
            e => (short_escape(e), 2),
        };
        out.push(c);
        i = j + len;
        j = find_backslash(b, i);
    }
}

fn short_escape(e: u8) -> char {
    match e {
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        other => other as char,
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends an escaped slice that [`scan`] validated to `out` in `serde_json`'s escaping and
/// returns the bytes its escapes add over the characters they stand for (so the text has
/// `non-continuation bytes - that` characters, [`chars_of`]).
pub(crate) fn canonical(raw: &str, out: &mut Vec<u8>) -> usize {
    let b = raw.as_bytes();
    let mut extra = 0;
    let mut i = 0;
    loop {
        let j = find_backslash(b, i);
        out.extend_from_slice(&b[i..j]);
        if j == b.len() {
            return extra;
        }
        match b[j + 1] {
            b'u' => {
                let (cp, n) = unicode_escape(&b[j + 2..]).unwrap_or((0xFFFD, 4));
                extra += push_char(cp, out);
                i = j + 2 + n;
            }
            b'/' => {
                out.push(b'/');
                i = j + 2;
            }
            e => {
                out.extend_from_slice(&[b'\\', e]);
                extra += 1;
                i = j + 2;
            }
        }
    }
}

/// Appends one character in `serde_json`'s escaping; returns the extra bytes of its escape.
fn push_char(cp: u32, out: &mut Vec<u8>) -> usize {
    let short = match cp {
        0x08 => Some(b'b'),
        0x0c => Some(b'f'),
        0x0a => Some(b'n'),
        0x0d => Some(b'r'),
        0x09 => Some(b't'),
        0x22 => Some(b'"'),
        0x5c => Some(b'\\'),
        _ => None,
    };
    if let Some(e) = short {
        out.extend_from_slice(&[b'\\', e]);
        return 1;
    }
    if cp < 0x20 {
        out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(cp >> 4) as usize], HEX[(cp & 15) as usize]]);
        return 5;
    }
    let c = char::from_u32(cp).unwrap_or('\u{FFFD}');
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    0
}

/// Characters of the text behind canonical escaped bytes whose escapes add `extra` bytes.
pub(crate) fn chars_of(escaped: &[u8], extra: usize) -> usize {
    escaped.iter().filter(|&&b| (b as i8) >= -0x40).count() - extra
}

/// Byte offset in canonical escaped bytes of the start of character `index` of the text.
pub(crate) fn char_offset(escaped: &[u8], index: usize) -> usize {
    let mut seen = 0;
    let mut i = 0;
    while i < escaped.len() {
        if seen == index {
            return i;
        }
        i += match escaped[i] {
            b'\\' if escaped.get(i + 1) == Some(&b'u') => 6,
            b'\\' => 2,
            b if b < 0x80 => 1,
            b if b >= 0xF0 => 4,
            b if b >= 0xE0 => 3,
            _ => 2,
        };
        seen += 1;
    }
    escaped.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon_str(raw: &str) -> (String, usize) {
        let mut out = Vec::new();
        let extra = canonical(raw, &mut out);
        (String::from_utf8(out).unwrap(), extra)
    }

    #[test]
    fn canonical_is_what_serde_json_writes() {
        for text in ["", "plain", "a\"b\\c\n\t\r\u{8}\u{c}\u{1}\u{1f}\u{7f}", "é→✓ 中文 \u{1f600} \u{2028}", "/x/"]
        {
            // Python's json.dumps (ensure_ascii) and serde_json's own escaping both come back.
            let python: String = text
                .chars()
                .map(|c| match c {
                    '"' => "\\\"".to_string(),
                    '\\' => "\\\\".to_string(),
                    '\n' => "\\n".to_string(),
                    '/' => "\\/".to_string(),
                    c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                        c.encode_utf16(&mut [0; 2]).iter().map(|u| format!("\\u{u:04X}")).collect()
                    }
                    c => c.to_string(),
                })
                .collect();
            let want = serde_json::to_string(text).unwrap();
            let want = &want[1..want.len() - 1];
            for raw in [python.as_str(), want] {
                let doc = format!("[{{\"role\":\"user\",\"content\":\"{raw}\"}}]");
                assert!(matches!(&scan(&doc).unwrap()[0].content, RawContent::Text(t) if *t == raw));
                let (got, extra) = canon_str(raw);
                assert_eq!(got, want, "{raw}");
                assert_eq!(chars_of(got.as_bytes(), extra), text.chars().count());
                assert_eq!(unescape(raw), text);
            }
            for idx in 0..=text.chars().count() {
                let off = char_offset(want.as_bytes(), idx);
                let prefix: String = text.chars().take(idx).collect();
                let esc = serde_json::to_string(&prefix).unwrap();
                assert_eq!(off, esc.len() - 2, "{text:?} at {idx}");
            }
        }
    }

    #[test]
    fn word_searches_find_the_first_hit() {
        for n in 0..40 {
            for hit in [b'"', b'\\', 0x1f, 0x00] {
                let mut s = vec![b'a'; n];
                s.extend_from_slice(&[0xc3, 0xa9, 0x7f, b' ']);
                s.push(hit);
                s.extend_from_slice(b"\"tail");
                let want = s.iter().position(|&b| special(b)).unwrap();
                assert_eq!(find_special(&s, 0), want, "{n} {hit}");
                let bs = s.iter().position(|&b| b == b'\\').unwrap_or(s.len());
                assert_eq!(find_backslash(&s, 0), bs, "{n} {hit}");
            }
            assert_eq!(find_special(&vec![b'z'; n], 0), n);
        }
    }

    #[test]
    fn scan_reads_the_shape_and_refuses_the_rest() {
        let text = r#"[{"role":"system","content":"s","agent":"main","extra":{"deep":[1,-2.5e3,true,null]}},
            {"role":"user","content":[{"type":"text","text":"Fix \"it\"\n"},{"type":"image","url":"x"},"tail"]},
            {"role":"assistant","content":"Look \u00e9.","thought":"Look.","tool_calls":[{"id":"t","function":{"name":"bash","arguments":"{\"command\": \"ls\"}"}}]},
            {"role":"tool","content":[{"type":"text","text":"OBSERVATION:\n\ud83d\ude00"}],"tool_call_ids":["t"]},
            {"role":"assistant","content":null,"tool_calls":null}]"#;
        let list = scan(text).unwrap();
        assert_eq!(list.len(), 5);
        assert!(matches!(&list[1].content, RawContent::Blocks(b) if b == &["Fix \\\"it\\\"\\n", "tail"]));
        let m = scan(text).unwrap().into_iter().nth(2).unwrap().into_msg();
        assert_eq!(m.content.text(), "Look é.");
        assert!(matches!(&m.tool_calls, Calls::List(c) if c.len() == 1));
        for bad in [
            r#"[{"role": 5}]"#,
            r#"[{"role": "user", "content": {"a": 1}}]"#,
            r#"[{"role": "user", "role": "tool"}]"#,
            r#"[{"rol\u0065": "user"}]"#,
            r#"[{"role": "user", "content": "\ud800"}]"#,
            r#"[{"role": "user", "content": "a	b"}]"#,
            r#"[{"role": "user"}] x"#,
            r#"[{"role": "user", "x": 01}]"#,
            r#"[{"tool_calls": [{"function": null}]}]"#,
            r#"{"role": "user"}"#,
            "[{",
        ] {
            assert!(scan(bad).is_none(), "{bad}");
        }
        assert_eq!(scan(" [ ] ").unwrap().len(), 0);
    }
}
