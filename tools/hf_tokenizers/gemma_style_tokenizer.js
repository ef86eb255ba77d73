// Builds a small tokenizer of Gemma's form with Hugging Face tokenizers itself (never by us), for
// tests: a SentencePiece-style BPE with byte fallback, Gemma's normalizer (spaces become "▁", no
// prefix added), its no-op Split pre-tokenizer, its decoder, <bos> added by the post-processor,
// and Gemma's special-token layout (<pad> 0, <eos> 1, <bos> 2, <unk> 3, <mask> 4, then the chat
// turn markers), and a tokenizer_config.json naming them as Gemma's does. Pieces and merges are the first MERGES merges of a Llama 2 tokenizer.json (the
// same SentencePiece-BPE kind) with every other source merge among those pieces, plus ASCII
// characters; every other character falls back to bytes.
// Run by hand (see docs/tokenizers.md):
//   NODE_PATH=<folder with node_modules> node gemma_style_tokenizer.js LLAMA2_TOKENIZER.json MERGES OUT.json
'use strict';
const fs = require('fs');
const tk = require('tokenizers');

const [sourcePath, mergesArg, outPath] = process.argv.slice(2);
const source = JSON.parse(fs.readFileSync(sourcePath, 'utf8'));
const allMerges = source.model.merges.map((m) => (Array.isArray(m) ? m : m.split(' ')));
const firstMerges = allMerges.slice(0, Number(mergesArg || 1000));

const vocab = {};
let next = 0;
const add = (piece) => { if (!(piece in vocab)) vocab[piece] = next++; };
for (const s of ['<pad>', '<eos>', '<bos>', '<unk>', '<mask>', '<start_of_turn>', '<end_of_turn>']) add(s);
for (let b = 0; b < 256; ++b) add('<0x' + b.toString(16).toUpperCase().padStart(2, '0') + '>');
add('\u2581');
for (let c = 0x20; c < 0x7f; ++c) if (c !== 0x20) add(String.fromCharCode(c));
for (const [a, b] of firstMerges) { add(a); add(b); }
for (const [a, b] of firstMerges) add(a + b);
// Every merge of the source between pieces we kept, in its order: as in a tokenizer converted from
// SentencePiece, each piece is reachable by every split of it into two pieces, which llama.cpp's
// score-driven merging (and our GGUF export) relies on.
const merges = allMerges.filter(([a, b]) => a in vocab && b in vocab && (a + b) in vocab);
const tokenizer = new tk.Tokenizer(tk.BPE.init(vocab, merges, { unkToken: '<unk>', byteFallback: true, fuseUnk: true }));
tokenizer.setNormalizer(tk.replace(' ', '\u2581'));
tokenizer.setPreTokenizer(tk.splitPreTokenizer(' ', 'mergedWithPrevious', false));
tokenizer.setDecoder(tk.sequenceDecoder([tk.replaceDecoder('\u2581', ' '), tk.byteFallbackDecoder(), tk.fuseDecoder()]));
tokenizer.addSpecialTokens(['<pad>', '<eos>', '<bos>', '<unk>', '<mask>', '<start_of_turn>', '<end_of_turn>']);
tokenizer.setPostProcessor(tk.templateProcessing('<bos> $A', '<bos> $A <bos> $B', [['<bos>', 2]]));
tokenizer.save(outPath, true);
// transformers' side, as Gemma's tokenizer_config.json has it: which tokens are BOS / EOS / pad.
const config = { add_bos_token: true, add_eos_token: false, bos_token: '<bos>', eos_token: '<eos>',
  pad_token: '<pad>', unk_token: '<unk>', tokenizer_class: 'GemmaTokenizer' };
fs.writeFileSync(require('path').join(require('path').dirname(outPath), 'tokenizer_config.json'),
  JSON.stringify(config, null, 2) + '\n');
process.stderr.write(`${Object.keys(vocab).length} pieces, ${merges.length} merges -> ${outPath}\n`);
