// Writes test vectors for a tokenizer.json, encoded by Hugging Face tokenizers (never by us): random
// strings over the whole code-point range, and strings holding every code point whose regex class
// differs between tokenizers' engine and PCRE2 (the kAdd_/kRemove_ tables that
// tools/make_unicode_tables wrote into src/tokenizer/unicode_tables.cpp). One JSON object a line,
// {"text", "ids"}, no special tokens added. Run by hand (see docs/tokenizers.md):
//   NODE_PATH=<folder with node_modules/tokenizers> node tokenizer_vectors.js TOKENIZER.json \
//     src/tokenizer/unicode_tables.cpp COUNT SEED [LINES.txt] > vectors.jsonl
// A tables path of "-" leaves the table strings out (a tokenizer without a regex pre-tokenizer);
// LINES.txt adds each of its lines as one more string (ordinary text, to exercise the merges).
'use strict';
const fs = require('fs');
const { Tokenizer } = require('tokenizers');

const [tokenizerPath, tablesPath, countArg, seedArg, linesPath] = process.argv.slice(2);
const tokenizer = Tokenizer.fromFile(tokenizerPath);

let state = BigInt(seedArg || 1);
function random() {  // 64-bit LCG (Knuth's MMIX constants): reproducible across Node versions
  state = (state * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
  return Number(state >> 11n) / 2 ** 53;
}
function randomScalar() {
  for (;;) {
    const c = Math.floor(random() * 0x110000);
    if (c < 0xd800 || c > 0xdfff) return c;
  }
}
// Characters the pre-tokenizer patterns treat specially, so random code points meet them.
const around = ["'s", "'T", "'re", "'ll", ' ', '  ', '\n', '\r\n', '\t', '1', '234', 'a', 'Zz', 'é', '!', '.',
  '\u00a0', '\u3000', '\u180e', '\u200b', '\u017f'];
const pick = (list) => list[Math.floor(random() * list.length)];

const texts = [];
for (let i = 0; i < Number(countArg || 1000); ++i) {
  let text = '';
  const parts = 1 + Math.floor(random() * 10);
  for (let k = 0; k < parts; ++k) text += random() < 0.5 ? pick(around) : String.fromCodePoint(randomScalar());
  texts.push(text);
}

// Every code point in a correction table, four to a string, each beside letters, digits and spaces.
const tables = tablesPath === '-' ? '' : fs.readFileSync(tablesPath, 'utf8');
const differing = new Set();
for (const m of tables.matchAll(/k(?:Add|Remove)_\w+\[\] = \{([^;]*)\};/g))
  for (const r of m[1].matchAll(/\{0x([0-9A-F]+), 0x([0-9A-F]+)\}/g))
    for (let c = parseInt(r[1], 16); c <= parseInt(r[2], 16); ++c) if (c < 0xd800 || c > 0xdfff) differing.add(c);
const sorted = [...differing].sort((a, b) => a - b);
const shapes = [(c) => `a${c}b`, (c) => ` ${c}1`, (c) => `'${c}s`, (c) => ` ${c} `];
for (let i = 0; i < sorted.length; i += 4)
  texts.push(sorted.slice(i, i + 4).map((c, k) => shapes[k](String.fromCodePoint(c))).join(''));

if (linesPath) for (const line of fs.readFileSync(linesPath, 'utf8').split('\n')) if (line) texts.push(line);

(async () => {
  const out = [];
  for (const text of texts) {
    const encoding = await tokenizer.encode(text, null, { addSpecialTokens: false });
    out.push(JSON.stringify({ text, ids: encoding.getIds() }));
  }
  process.stdout.write(out.join('\n') + '\n');
  process.stderr.write(`${texts.length} strings, ${sorted.length} code points from the correction tables\n`);
})();
