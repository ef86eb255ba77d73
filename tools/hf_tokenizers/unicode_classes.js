// Writes, for every regex class optipfair takes from Hugging Face tokenizers rather than from PCRE2,
// the code points that tokenizers' own regex engine (Oniguruma) puts in it, probed through a Split
// pre-tokenizer over every scalar value. Output: one line per class, "<escape>\t<first>-<last> ...",
// hexadecimal. Run by hand (see docs/tokenizers.md); tools/make_unicode_tables turns it into C++.
//   NODE_PATH=<folder with node_modules/tokenizers> node unicode_classes.js > classes.tsv
'use strict';
const { Tokenizer } = require('tokenizers');

const categories = ['Lu', 'Ll', 'Lt', 'Lm', 'Lo', 'Mn', 'Mc', 'Me', 'Nd', 'Nl', 'No', 'Pc', 'Pd', 'Ps', 'Pe',
  'Pi', 'Pf', 'Po', 'Sm', 'Sc', 'Sk', 'So', 'Zs', 'Zl', 'Zp', 'Cc', 'Cf', 'Co', 'Cn'];
const escapes = [...categories.map(c => `\\p{${c}}`), '\\p{L}', '\\p{M}', '\\p{N}', '\\p{P}', '\\p{S}',
  '\\p{Z}', '\\p{C}', '\\s', '\\w', '\\d', '\\h'];

// "Removed" drops what the pattern matches, so a code point absent from every piece is a member.
function remover(pattern) {
  const json = {
    version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null,
    pre_tokenizer: { type: 'Split', pattern: { Regex: pattern }, behavior: 'Removed', invert: false },
    post_processor: null, decoder: null,
    model: { type: 'WordLevel', vocab: { '[UNK]': 0 }, unk_token: '[UNK]' },
  };
  return Tokenizer.fromString(JSON.stringify(json)).getPreTokenizer();
}

const scalars = [];
for (let c = 0; c <= 0x10ffff; ++c) if (c < 0xd800 || c > 0xdfff) scalars.push(c);

for (const escape of escapes) {
  const splitter = remover(escape);
  const member = new Uint8Array(0x110000);
  const chunk = 4096;
  for (let i = 0; i < scalars.length; i += chunk) {
    const part = scalars.slice(i, i + chunk);
    for (const c of part) member[c] = 1;
    const text = String.fromCodePoint(...part);
    // Offsets count code points, so they index `part` directly.
    for (const [, [begin, end]] of splitter.preTokenizeString(text))
      for (let k = begin; k < end; ++k) member[part[k]] = 0;
  }
  const ranges = [];
  for (let c = 0; c < 0x110000; ++c) {
    if (!member[c]) continue;
    let last = c;
    while (last + 1 < 0x110000 && member[last + 1]) ++last;
    ranges.push(`${c.toString(16)}-${last.toString(16)}`);
    c = last;
  }
  process.stdout.write(`${escape}\t${ranges.join(' ')}\n`);
}
