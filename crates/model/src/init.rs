//! `srl-swe model init`: a random-weight Qwen2 checkpoint in Hugging Face layout with a byte-level
//! BPE tokenizer trained (tokenizers crate, Sennrich et al. arXiv 1508.07909 / GPT-2 byte-level
//! BPE) on the project's text, Qwen-style special tokens and the Qwen2.5 ChatML template.
//!
//! The tokenizer copies Qwen2's pipeline: NFC normalizer, the Qwen2 split regex
//! (digits one by one), byte-level pre-tokenizer without prefix space, byte-level decoder. Special
//! tokens: `<|endoftext|>` (pad), `<|im_start|>`, `<|im_end|>` (EOS); `<think>`/`</think>` are
//! ordinary added tokens.

use crate::chat_template::QWEN25_CHAT_TEMPLATE;
use crate::device::{DType, Device};
use crate::error::{ModelError, Result};
use crate::presets::Preset;
use crate::qwen2::Qwen2Model;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use tokenizers::models::bpe::{BpeTrainerBuilder, BPE};
use tokenizers::models::TrainerWrapper;
use tokenizers::normalizers::unicode::NFC;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::{AddedToken, SplitDelimiterBehavior};

/// The Qwen2 pre-tokenization regex.
pub const QWEN2_SPLIT_REGEX: &str =
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// End of text; also the padding token.
pub const ENDOFTEXT: &str = "<|endoftext|>";
/// Start of a chat turn.
pub const IM_START: &str = "<|im_start|>";
/// End of a chat turn; the EOS of chat models.
pub const IM_END: &str = "<|im_end|>";
/// Reasoning delimiters (ordinary added tokens).
pub const THINK_TOKENS: [&str; 2] = ["<think>", "</think>"];

/// Characters of the `toy` preset's tokenizer (one token each, after the five special tokens).
pub const TOY_CHARS: &str = "0123456789 \n+-=:.,abcdefghijklmnopqrstuvwxyz";

/// ChatML without a default system turn (the `toy` vocabulary cannot spell Qwen's default
/// system prompt): `<|im_start|>{role}\n{content}<|im_end|>\n` per message, then
/// `<|im_start|>assistant\n` as the generation prompt.
pub const TOY_CHAT_TEMPLATE: &str = "{%- for message in messages %}{{- '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %}";

/// Where the tokenizer's training text comes from, in order of preference.
pub const DEFAULT_CORPUS: &[&str] = &["datasets", "environments", "README.md", "docs", "crates"];

/// Options of [`init_checkpoint`].
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// Model shape.
    pub preset: Preset,
    /// Output folder.
    pub out: PathBuf,
    /// Weight seed.
    pub seed: u64,
    /// Stored dtype.
    pub dtype: DType,
    /// Files or folders with training text for the tokenizer (`.jsonl`, `.json`, `.md`, `.txt`,
    /// `.py`, `.rs`); folders are walked in sorted order.
    pub corpus: Vec<PathBuf>,
}

/// What [`init_checkpoint`] wrote.
#[derive(Debug, Clone)]
pub struct InitReport {
    /// Output folder.
    pub out: PathBuf,
    /// Parameters.
    pub num_parameters: i64,
    /// Tokenizer vocabulary (with added tokens).
    pub tokenizer_vocab: usize,
    /// Files the tokenizer was trained on.
    pub corpus_files: usize,
    /// Bytes of training text.
    pub corpus_bytes: usize,
}

const TEXT_EXTENSIONS: &[&str] = &["jsonl", "json", "md", "txt", "py", "rs", "toml", "yaml", "yml", "traj"];

/// Files under `roots` with text extensions, sorted, skipping hidden folders and `target`.
pub fn collect_corpus(roots: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for root in roots {
        walk(root, &mut files)?;
    }
    files.sort();
    files.dedup();
    Ok(files)
}

fn walk(path: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    if path.is_file() {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if TEXT_EXTENSIONS.contains(&ext) {
            out.push(path.to_path_buf());
        }
        return Ok(());
    }
    if !path.is_dir() {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(path).map_err(ModelError::io(path))?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for e in entries {
        let name = e.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') || name == "target" || name == "node_modules" {
            continue;
        }
        walk(&e, out)?;
    }
    Ok(())
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

/// Training texts of one file: string values of each JSON line / document, raw text otherwise.
/// At most `budget` bytes are taken.
fn file_texts(path: &Path, budget: usize) -> Result<Vec<String>> {
    let raw = std::fs::read(path).map_err(ModelError::io(path))?;
    let text = String::from_utf8_lossy(&raw[..raw.len().min(budget.saturating_mul(2))]).into_owned();
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let mut out = Vec::new();
    if ext == "jsonl" || ext == "json" || ext == "traj" {
        let values: Vec<Value> = if ext == "jsonl" {
            text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
        } else {
            serde_json::from_str(&text).into_iter().collect()
        };
        if values.is_empty() {
            out.push(text);
        }
        for v in &values {
            collect_strings(v, &mut out);
        }
    } else {
        out.push(text);
    }
    let mut used = 0usize;
    out.retain(|s| {
        used += s.len();
        used <= budget
    });
    Ok(out)
}

/// Trains the Qwen-style byte-level BPE tokenizer on `texts` with `vocab_size` entries (byte
/// alphabet and special tokens included).
pub fn train_bpe_tokenizer(texts: &[String], vocab_size: usize) -> Result<tokenizers::Tokenizer> {
    let err = |e: tokenizers::Error| ModelError::Tokenizer { context: "train".into(), reason: e.to_string() };
    let specials: Vec<AddedToken> = [ENDOFTEXT, IM_START, IM_END].iter().map(|t| AddedToken::from(*t, true)).collect();
    let trainer = BpeTrainerBuilder::new()
        .vocab_size(vocab_size)
        .min_frequency(2)
        .show_progress(false)
        .special_tokens(specials)
        .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
        .build();
    let mut trainer = TrainerWrapper::BpeTrainer(trainer);
    let mut tok = tokenizers::Tokenizer::new(BPE::default());
    let split = Split::new(SplitPattern::Regex(QWEN2_SPLIT_REGEX.into()), SplitDelimiterBehavior::Isolated, false)
        .map_err(err)?;
    tok.with_normalizer(Some(NFC)).map_err(err)?;
    tok.with_pre_tokenizer(Some(Sequence::new(vec![split.into(), ByteLevel::new(false, false, false).into()])));
    tok.with_post_processor(Some(ByteLevel::new(false, false, false)));
    tok.with_decoder(Some(ByteLevel::new(false, false, false)));
    tok.train(&mut trainer, texts.iter()).map_err(err)?;
    tok.add_tokens(THINK_TOKENS.iter().map(|t| AddedToken::from(*t, false))).map_err(err)?;
    Ok(tok)
}

/// The `toy` preset's tokenizer: one token per character of `chars` (a BPE model without merges,
/// so every character is its own token and any text is spelled character by character), ids
/// 0–4 for `<|endoftext|>` (pad), `<|im_start|>`, `<|im_end|>`, `<think>`, `</think>`, and a
/// `Fuse` decoder that concatenates tokens. Serialized in the `tokenizer.json` format, so
/// transformers loads it like any other tokenizer.
pub fn toy_char_tokenizer(chars: &str) -> Result<tokenizers::Tokenizer> {
    let specials = [ENDOFTEXT, IM_START, IM_END, THINK_TOKENS[0], THINK_TOKENS[1]];
    let mut vocab = serde_json::Map::new();
    for (i, t) in specials.iter().enumerate() {
        vocab.insert((*t).to_string(), json!(i));
    }
    for c in chars.chars() {
        let id = vocab.len();
        if vocab.insert(c.to_string(), json!(id)).is_some() {
            return Err(ModelError::Input(format!("toy tokenizer: character {c:?} appears twice")));
        }
    }
    let added: Vec<Value> = specials
        .iter()
        .enumerate()
        .map(|(i, t)| {
            json!({"id": i, "content": t, "single_word": false, "lstrip": false, "rstrip": false,
                   "normalized": false, "special": i < 3})
        })
        .collect();
    let doc = json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": null,
        "pre_tokenizer": null,
        "post_processor": null,
        "decoder": {"type": "Fuse"},
        "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
                  "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false,
                  "ignore_merges": false, "vocab": vocab, "merges": []},
    });
    doc.to_string()
        .parse::<tokenizers::Tokenizer>()
        .map_err(|e| ModelError::Tokenizer { context: "toy tokenizer".into(), reason: e.to_string() })
}

/// Writes the tokenizer files (`tokenizer.json`, `tokenizer_config.json` with the Qwen2.5 chat
/// template, `special_tokens_map.json`, `generation_config.json`) into `dir`.
pub fn write_tokenizer_files(dir: &Path, tok: &tokenizers::Tokenizer, max_len: i64) -> Result<(u32, u32, u32)> {
    write_tokenizer_files_with(dir, tok, max_len, QWEN25_CHAT_TEMPLATE)
}

/// [`write_tokenizer_files`] with another chat template.
pub fn write_tokenizer_files_with(
    dir: &Path,
    tok: &tokenizers::Tokenizer,
    max_len: i64,
    chat_template: &str,
) -> Result<(u32, u32, u32)> {
    let id = |t: &str| {
        tok.token_to_id(t)
            .ok_or_else(|| ModelError::Tokenizer { context: "special tokens".into(), reason: format!("{t} missing") })
    };
    let (eot, ims, ime) = (id(ENDOFTEXT)?, id(IM_START)?, id(IM_END)?);
    let json = tok
        .to_string(true)
        .map_err(|e| ModelError::Tokenizer { context: "serialize".into(), reason: e.to_string() })?;
    srl_core::io::write_atomic(dir.join("tokenizer.json"), json.as_bytes())?;
    let mut added = serde_json::Map::new();
    for (tok_str, special) in
        [(ENDOFTEXT, true), (IM_START, true), (IM_END, true), (THINK_TOKENS[0], false), (THINK_TOKENS[1], false)]
    {
        added.insert(
            id(tok_str)?.to_string(),
            json!({"content": tok_str, "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": special}),
        );
    }
    let tok_cfg = json!({
        "add_bos_token": false,
        "add_prefix_space": false,
        "added_tokens_decoder": added,
        "additional_special_tokens": [IM_START, IM_END],
        "bos_token": null,
        "chat_template": chat_template,
        "clean_up_tokenization_spaces": false,
        "eos_token": IM_END,
        "errors": "replace",
        "model_max_length": max_len,
        "pad_token": ENDOFTEXT,
        "split_special_tokens": false,
        "tokenizer_class": "Qwen2Tokenizer",
        "unk_token": null,
    });
    srl_core::io::write_json_pretty(dir.join("tokenizer_config.json"), &tok_cfg)?;
    let special_map = json!({
        "additional_special_tokens": [IM_START, IM_END],
        "eos_token": {"content": IM_END, "lstrip": false, "normalized": false, "rstrip": false, "single_word": false},
        "pad_token": {"content": ENDOFTEXT, "lstrip": false, "normalized": false, "rstrip": false, "single_word": false},
    });
    srl_core::io::write_json_pretty(dir.join("special_tokens_map.json"), &special_map)?;
    let gen_cfg = json!({"bos_token_id": eot, "eos_token_id": [ime, eot], "pad_token_id": eot});
    srl_core::io::write_json_pretty(dir.join("generation_config.json"), &gen_cfg)?;
    Ok((eot, ims, ime))
}

/// Trains the tokenizer, draws random weights for `opts.preset` and saves everything to
/// `opts.out` in Hugging Face layout.
pub fn init_checkpoint(opts: &InitOptions) -> Result<InitReport> {
    if opts.preset == Preset::Toy {
        return init_toy(opts);
    }
    let files = collect_corpus(&opts.corpus)?;
    let mut texts = Vec::new();
    let mut bytes = 0usize;
    const BUDGET: usize = 8 << 20;
    for f in &files {
        if bytes >= BUDGET {
            break;
        }
        for t in file_texts(f, BUDGET - bytes)? {
            bytes += t.len();
            texts.push(t);
        }
    }
    if bytes < 1024 {
        return Err(ModelError::Input(format!(
            "tokenizer corpus too small ({bytes} bytes from {} files under {:?}); pass --corpus with text files",
            files.len(),
            opts.corpus
        )));
    }
    tracing::info!(files = files.len(), bytes, "training byte-level BPE tokenizer");
    let tok = train_bpe_tokenizer(&texts, opts.preset.tokenizer_vocab_size())?;
    let vocab = tok.get_vocab_size(true);
    let config = opts.preset.config(vocab);
    std::fs::create_dir_all(&opts.out).map_err(ModelError::io(&opts.out))?;
    let (eot, _ims, ime) = write_tokenizer_files(&opts.out, &tok, config.max_position_embeddings)?;
    tracing::info!(preset = opts.preset.name(), params = config.num_parameters(), "drawing random weights");
    let mut model = Qwen2Model::new_random(&config, Device::Cpu, opts.dtype, opts.seed)?;
    model.set_raw_config(config.to_hf_json(opts.dtype, eot, ime));
    model.save(&opts.out)?;
    Ok(InitReport {
        out: opts.out.clone(),
        num_parameters: config.num_parameters(),
        tokenizer_vocab: vocab,
        corpus_files: files.len(),
        corpus_bytes: bytes,
    })
}

/// The `toy` preset: the character tokenizer (no corpus needed) and the toy shape.
fn init_toy(opts: &InitOptions) -> Result<InitReport> {
    let tok = toy_char_tokenizer(TOY_CHARS)?;
    let vocab = tok.get_vocab_size(true);
    let config = opts.preset.config(vocab);
    std::fs::create_dir_all(&opts.out).map_err(ModelError::io(&opts.out))?;
    let (eot, _ims, ime) =
        write_tokenizer_files_with(&opts.out, &tok, config.max_position_embeddings, TOY_CHAT_TEMPLATE)?;
    let mut model = Qwen2Model::new_random(&config, Device::Cpu, opts.dtype, opts.seed)?;
    model.set_raw_config(config.to_hf_json(opts.dtype, eot, ime));
    model.save(&opts.out)?;
    Ok(InitReport {
        out: opts.out.clone(),
        num_parameters: config.num_parameters(),
        tokenizer_vocab: vocab,
        corpus_files: 0,
        corpus_bytes: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::Tokenizer;

    #[test]
    fn toy_preset_spells_text_by_character_and_renders_chatml() {
        let out = tempfile::tempdir().unwrap();
        let opts = InitOptions {
            preset: Preset::Toy,
            out: out.path().join("toy"),
            seed: 3,
            dtype: DType::F32,
            corpus: Vec::new(),
        };
        let report = init_checkpoint(&opts).unwrap();
        assert_eq!(report.tokenizer_vocab, 5 + TOY_CHARS.chars().count());
        let p = crate::Policy::load(&opts.out, Device::Cpu, DType::F32).unwrap();
        let ids = p.prompt_ids(&[srl_core::Message::new(srl_core::Role::User, "1 2")]).unwrap();
        // <|im_start|> u s e r \n 1 ' ' 2 <|im_end|> \n <|im_start|> a s s i s t a n t \n
        assert_eq!(ids.len(), 1 + 4 + 1 + 3 + 1 + 1 + 1 + 9 + 1);
        assert_eq!((ids[0], ids[9]), (1, 2));
        assert_eq!(
            p.tokenizer.decode(&ids, false).unwrap(),
            "<|im_start|>user\n1 2<|im_end|>\n<|im_start|>assistant\n"
        );
        let t = p.encode_text("<think>ab</think>3").unwrap();
        assert_eq!(t.len(), 5);
        assert_eq!((t[0], t[3]), (3, 4));
        assert_eq!(p.decode(&t).unwrap(), "<think>ab</think>3", "think tags are ordinary tokens and survive decoding");
        assert_eq!(p.tokenizer.eos_token_ids(), &[2, 0]);
        assert_eq!(p.pad_id(), 0);
        assert_eq!(p.model.config().vocab_size as usize, report.tokenizer_vocab);
    }

    fn corpus() -> Vec<String> {
        let base =
            "def add(a, b):\n    return a + b\n\nThe quick brown fox jumps over the lazy dog. 12345 + 678 = 13023.\n";
        (0..200).map(|i| format!("{base} line {i} <think>step</think>")).collect()
    }

    #[test]
    fn trained_tokenizer_round_trips_text_and_keeps_special_tokens_whole() {
        let tok = train_bpe_tokenizer(&corpus(), 600).unwrap();
        let dir = tempfile::tempdir().unwrap();
        write_tokenizer_files(dir.path(), &tok, 1024).unwrap();
        let t = Tokenizer::load(dir.path()).unwrap();
        let ime = t.token_to_id(IM_END).unwrap();
        let eot = t.token_to_id(ENDOFTEXT).unwrap();
        assert_eq!(t.eos_token_ids(), &[ime, eot]);
        assert_eq!(t.pad_token_id(), Some(eot));
        let text = "<|im_start|>user\nWhat is 12 + 30? Ünïcödé ✓<|im_end|>\n<think>ok</think>";
        let ids = t.encode(text, false).unwrap();
        assert_eq!(t.decode(&ids, false).unwrap(), text);
        assert_eq!(ids[0], t.token_to_id(IM_START).unwrap());
        assert!(ids.contains(&ime));
        assert!(ids.contains(&t.token_to_id("<think>").unwrap()));
        // Digits are split one by one, as in Qwen2.
        let digits = t.encode("2025", false).unwrap();
        assert_eq!(digits.len(), 4);
        assert_eq!(t.decode(&ids, true).unwrap(), "user\nWhat is 12 + 30? Ünïcödé ✓\n<think>ok</think>");
    }

    #[test]
    fn generation_decodes_text_and_cuts_at_stop_strings() {
        let inner = train_bpe_tokenizer(&corpus(), 400).unwrap();
        let tok = Tokenizer::from_parts(inner, Some(IM_END), Some(ENDOFTEXT));
        let mut config = Preset::Tiny.config(tok.vocab_size());
        config.num_hidden_layers = 1;
        let m = Qwen2Model::new_random_with_std(&config, Device::Cpu, DType::F32, 9, 0.2).unwrap();
        let prompt = tok.encode("def add(a, b):", false).unwrap();
        let cfg = crate::GenerationConfig::greedy(24);
        let free = crate::generate_with(&m, Some(&tok), std::slice::from_ref(&prompt), &cfg, &crate::NoProgress)
            .unwrap()
            .remove(0);
        let text = free.text.clone().unwrap();
        assert_eq!(text, tok.decode(&free.token_ids, true).unwrap());
        let chars: Vec<char> = text.chars().collect();
        assert!(chars.len() >= 4, "random model produced too little text: {text:?}");
        let stop: String = chars[chars.len() / 2..chars.len() / 2 + 2].iter().collect();
        let cut = text.find(&stop).unwrap();
        let cfg = crate::GenerationConfig { stop_strings: vec![stop.clone()], ..cfg };
        let g = crate::generate_with(&m, Some(&tok), &[prompt], &cfg, &crate::NoProgress).unwrap().remove(0);
        assert_eq!(g.text.as_deref(), Some(&text[..cut]), "stop string {stop:?}");
        assert_eq!(g.finish_reason, crate::FinishReason::Stop);
        assert!(g.token_ids.len() <= free.token_ids.len());
        assert_eq!(g.token_ids[..], free.token_ids[..g.token_ids.len()]);
    }

    #[test]
    fn collects_text_files_in_sorted_order_and_reads_jsonl_strings() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.jsonl"), "{\"q\": \"hello\\nworld\", \"n\": 3}\n{\"q\": [\"x\"]}\n").unwrap();
        std::fs::write(dir.path().join("a.md"), "# title").unwrap();
        std::fs::write(dir.path().join("c.bin"), [0u8, 1]).unwrap();
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        std::fs::write(dir.path().join(".git/x.md"), "hidden").unwrap();
        let files = collect_corpus(&[dir.path().to_path_buf()]).unwrap();
        let names: Vec<_> = files.iter().map(|f| f.file_name().unwrap().to_str().unwrap().to_string()).collect();
        assert_eq!(names, vec!["a.md", "b.jsonl"]);
        assert_eq!(file_texts(&files[1], 1000).unwrap(), vec!["hello\nworld".to_string(), "x".to_string()]);
    }

    #[test]
    fn init_writes_a_loadable_tiny_checkpoint() {
        let src = tempfile::tempdir().unwrap();
        std::fs::write(src.path().join("text.txt"), corpus().join("\n")).unwrap();
        let out = tempfile::tempdir().unwrap();
        let opts = InitOptions {
            preset: Preset::Tiny,
            out: out.path().join("tiny"),
            seed: 1,
            dtype: DType::F32,
            corpus: vec![src.path().to_path_buf()],
        };
        let report = init_checkpoint(&opts).unwrap();
        assert!(report.num_parameters > 1_000_000);
        for f in
            ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json"]
        {
            assert!(opts.out.join(f).is_file(), "{f} missing");
        }
        let m = Qwen2Model::load(&opts.out, Device::Cpu, DType::F32).unwrap();
        assert_eq!(m.config().num_parameters(), report.num_parameters);
        assert!(m.config().vocab_size as usize >= report.tokenizer_vocab);
        let tmpl = crate::ChatTemplate::load(&opts.out).unwrap();
        let prompt = tmpl.render(&[srl_core::Message::new(srl_core::Role::User, "hi")], true).unwrap();
        assert!(prompt.ends_with("<|im_start|>assistant\n"));
        // Same seed, same weights.
        let again = tempfile::tempdir().unwrap();
        init_checkpoint(&InitOptions { out: again.path().to_path_buf(), ..opts.clone() }).unwrap();
        for f in ["model.safetensors", "tokenizer.json"] {
            let same = std::fs::read(opts.out.join(f)).unwrap() == std::fs::read(again.path().join(f)).unwrap();
            assert!(same, "{f} differs between two runs with the same seed");
        }
    }
}
