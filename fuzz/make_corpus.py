#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/<target>/: tiny valid files of every format, built here
byte by byte (a 1-layer model of hidden size 4), plus a few small files from ../shared when present.
Run from the repository root; the result is committed, so this only reruns when a format changes."""
import json, os, shutil, struct, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
SHARED = os.environ.get("OPTIPFAIR_SHARED", os.path.join(ROOT, "..", "shared"))

V, H, L, NH, NKV, HD, I = 8, 4, 1, 2, 1, 2, 8
CONFIG = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
          "hidden_size": H, "intermediate_size": I, "num_hidden_layers": L, "num_attention_heads": NH,
          "num_key_value_heads": NKV, "head_dim": HD, "vocab_size": V, "max_position_embeddings": 16,
          "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "rope_scaling": None, "tie_word_embeddings": False,
          "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32"}


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    assert len(data) <= 64 * 1024, (target, name, len(data))
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def shared(rel):
    p = os.path.join(SHARED, rel)
    if os.path.exists(p) and os.path.getsize(p) <= 64 * 1024:
        with open(p, "rb") as f:
            return f.read()
    return None


def floats(n, start=0.0):
    return struct.pack("<%df" % n, *[start + 0.01 * k for k in range(n)])


# name -> shape, in Hugging Face naming
HF = [("model.embed_tokens.weight", [V, H])]
for l in range(L):
    p = "model.layers.%d." % l
    HF += [(p + "input_layernorm.weight", [H]), (p + "self_attn.q_proj.weight", [NH * HD, H]),
           (p + "self_attn.k_proj.weight", [NKV * HD, H]), (p + "self_attn.v_proj.weight", [NKV * HD, H]),
           (p + "self_attn.o_proj.weight", [H, NH * HD]), (p + "post_attention_layernorm.weight", [H]),
           (p + "mlp.gate_proj.weight", [I, H]), (p + "mlp.up_proj.weight", [I, H]), (p + "mlp.down_proj.weight", [H, I])]
HF += [("model.norm.weight", [H]), ("lm_head.weight", [V, H])]


def numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def safetensors(tensors, dtype="F32"):
    header, blob = {"__metadata__": {"format": "pt"}}, b""
    esize = {"F32": 4, "F16": 2, "BF16": 2}[dtype]
    for name, shape in tensors:
        n = numel(shape) * esize
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + n]}
        blob += bytes((k * 7) & 0x3F for k in range(n))
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + blob


def gguf_str(s):
    s = s.encode()
    return struct.pack("<Q", len(s)) + s


def gguf_kv(key, kind, value):
    out = gguf_str(key)
    if kind == "u32":
        return out + struct.pack("<II", 4, value)
    if kind == "f32":
        return out + struct.pack("<If", 6, value)
    if kind == "str":
        return out + struct.pack("<I", 8) + gguf_str(value)
    if kind == "astr":
        return out + struct.pack("<IIQ", 9, 8, len(value)) + b"".join(gguf_str(v) for v in value)
    if kind == "af32":
        return out + struct.pack("<IIQ", 9, 6, len(value)) + struct.pack("<%df" % len(value), *value)
    if kind == "ai32":
        return out + struct.pack("<IIQ", 9, 5, len(value)) + struct.pack("<%di" % len(value), *value)
    raise ValueError(kind)


GGUF_NAMES = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
              "lm_head.weight": "output.weight"}
for l in range(L):
    for hf, gg in [("input_layernorm", "attn_norm"), ("self_attn.q_proj", "attn_q"), ("self_attn.k_proj", "attn_k"),
                   ("self_attn.v_proj", "attn_v"), ("self_attn.o_proj", "attn_output"),
                   ("post_attention_layernorm", "ffn_norm"), ("mlp.gate_proj", "ffn_gate"), ("mlp.up_proj", "ffn_up"),
                   ("mlp.down_proj", "ffn_down")]:
        GGUF_NAMES["model.layers.%d.%s.weight" % (l, hf)] = "blk.%d.%s.weight" % (l, gg)

TOKENS = ["<unk>", "<s>", "</s>", "\u2581", "a", "b", "\u2581a", "ab"]


# GGUF tensors (name, shape outermost first) of the gemma3 and phi3 archs, and their extra keys.
GEMMA3 = [("token_embd.weight", [V, H]), ("output_norm.weight", [H])]
PHI3 = [("token_embd.weight", [V, H]), ("output_norm.weight", [H]), ("output.weight", [V, H]),
        ("rope_factors_long.weight", [HD // 2]), ("rope_factors_short.weight", [HD // 2])]
for l in range(L):
    b = "blk.%d." % l
    GEMMA3 += [(b + "attn_norm.weight", [H]), (b + "attn_q.weight", [NH * HD, H]), (b + "attn_k.weight", [NKV * HD, H]),
               (b + "attn_v.weight", [NKV * HD, H]), (b + "attn_output.weight", [H, NH * HD]),
               (b + "attn_q_norm.weight", [HD]), (b + "attn_k_norm.weight", [HD]),
               (b + "post_attention_norm.weight", [H]), (b + "ffn_norm.weight", [H]), (b + "ffn_gate.weight", [I, H]),
               (b + "ffn_up.weight", [I, H]), (b + "ffn_down.weight", [H, I]), (b + "post_ffw_norm.weight", [H])]
    PHI3 += [(b + "attn_norm.weight", [H]), (b + "attn_qkv.weight", [(NH + 2 * NKV) * HD, H]),
             (b + "attn_output.weight", [H, NH * HD]), (b + "ffn_norm.weight", [H]), (b + "ffn_up.weight", [2 * I, H]),
             (b + "ffn_down.weight", [H, I])]
ARCH_KEYS = {
    "gemma3": [("gemma3.attention.key_length", "u32", HD), ("gemma3.attention.sliding_window", "u32", 4),
               ("gemma3.rope.freq_base_swa", "f32", 1e4), ("gemma3.attention.sliding_window_pattern", "u32", 2)],
    "phi3": [("phi3.rope.dimension_count", "u32", HD), ("phi3.rope.scaling.attn_factor", "f32", 1.2),
             ("phi3.rope.scaling.original_context_length", "u32", 8), ("phi3.attention.sliding_window", "u32", 0)],
}


def gguf(with_model=True, with_vocab=True, arch="llama"):
    kvs = [gguf_kv("general.architecture", "str", arch), gguf_kv("general.alignment", "u32", 32)]
    if with_model:
        kvs += [gguf_kv(arch + ".block_count", "u32", L), gguf_kv(arch + ".context_length", "u32", 16),
                gguf_kv(arch + ".embedding_length", "u32", H), gguf_kv(arch + ".feed_forward_length", "u32", I),
                gguf_kv(arch + ".attention.head_count", "u32", NH), gguf_kv(arch + ".attention.head_count_kv", "u32", NKV),
                gguf_kv(arch + ".attention.layer_norm_rms_epsilon", "f32", 1e-5), gguf_kv(arch + ".rope.freq_base", "f32", 1e4)]
        kvs += [gguf_kv(*k) for k in ARCH_KEYS.get(arch, [])]
    if with_vocab:
        kvs += [gguf_kv("tokenizer.ggml.model", "str", "llama"), gguf_kv("tokenizer.ggml.tokens", "astr", TOKENS),
                gguf_kv("tokenizer.ggml.scores", "af32", [0.0, 0.0, 0.0, -1.0, -2.0, -3.0, -1.5, -2.5]),
                gguf_kv("tokenizer.ggml.token_type", "ai32", [2, 3, 3, 1, 1, 1, 1, 1]),
                gguf_kv("tokenizer.ggml.bos_token_id", "u32", 1), gguf_kv("tokenizer.ggml.eos_token_id", "u32", 2)]
    tensors = ({"gemma3": GEMMA3, "phi3": PHI3}.get(arch) or [(GGUF_NAMES[n], s) for n, s in HF]) if with_model else []
    infos, blob = b"", b""
    for name, shape in tensors:
        infos += gguf_str(name) + struct.pack("<I", len(shape))
        infos += b"".join(struct.pack("<Q", s) for s in reversed(shape)) + struct.pack("<IQ", 0, len(blob))
        blob += floats(numel(shape), 1.0 if name.startswith("rope_factors") else 0.0)  # factors must be positive
        blob += b"\0" * (-len(blob) % 32)
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs)) + b"".join(kvs) + infos
    head += b"\0" * (-len(head) % 32)
    return head + blob


def llama2c(shared_classifier=True, seq_len=8):
    kv = NKV * HD
    hdr = struct.pack("<7i", H, I, L, NH, NKV, V if shared_classifier else -V, seq_len)
    n = V * H + L * H + L * H * H + 2 * L * H * kv + L * H * H + L * H + 3 * L * I * H + H + seq_len * HD
    if not shared_classifier:
        n += V * H
    return hdr + floats(n)


def llama2c_tokenizer():
    out = struct.pack("<i", 8)
    for k, t in enumerate(["<unk>", "\n<s>\n", "\n</s>\n"] + ["<0x%02X>" % b for b in range(256)] + [" a", "b", "ab", " ab"]):
        t = t.encode()
        out += struct.pack("<fi", -float(k), len(t)) + t
    return out


def pb_len(field, data):
    # varint length: every message here is under 16 KB
    n, v = len(data), b""
    while True:
        b = n & 0x7F
        n >>= 7
        v += bytes([b | (0x80 if n else 0)])
        if not n:
            break
    return bytes([field << 3 | 2]) + v + data


def sp_piece(text, kind, score=-1.0):
    return pb_len(1, pb_len(1, text.encode()) + b"\x15" + struct.pack("<f", score) + bytes([0x18, kind]))


def sentencepiece(normal, byte_fallback=False):
    pieces = sp_piece("<unk>", 2, 0.0) + sp_piece("<s>", 3, 0.0) + sp_piece("</s>", 3, 0.0)
    if byte_fallback:
        pieces += b"".join(sp_piece("<0x%02X>" % b, 6, 0.0) for b in range(256))
    pieces += b"".join(sp_piece(p, 1, -float(k + 1)) for k, p in enumerate(normal))
    # trainer_spec (field 2): model_type 1 = unigram (field 3), byte_fallback (field 35)
    trainer = bytes([3 << 3, 1]) + (bytes([0x98, 0x02, 1]) if byte_fallback else b"")
    return pieces + pb_len(2, trainer)


def main():
    shutil.rmtree(CORPUS, ignore_errors=True)
    put("fuzz_safetensors", "tiny_f32.safetensors", safetensors(HF))
    put("fuzz_safetensors", "tiny_bf16.safetensors", safetensors(HF[:3], "BF16"))
    put("fuzz_safetensors", "one_tensor_f16.safetensors", safetensors([("x", [2, 3])], "F16"))
    put("fuzz_safetensors", "empty.safetensors", safetensors([]))

    put("fuzz_config_json", "tiny.json", json.dumps(CONFIG, indent=1))
    q = dict(CONFIG, model_type="qwen2", attention_bias=True, sliding_window=8, eos_token_id=[2, 3])
    put("fuzz_config_json", "qwen2.json", json.dumps(q))
    r = dict(CONFIG, rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                   "high_freq_factor": 4.0, "original_max_position_embeddings": 8})
    put("fuzz_config_json", "llama3_rope.json", json.dumps(r))
    put("fuzz_config_json", "two_layers_gqa.json", json.dumps(dict(CONFIG, num_hidden_layers=2, num_key_value_heads=2)))
    g3 = dict(CONFIG, model_type="gemma3_text", hidden_activation="gelu_pytorch_tanh", num_hidden_layers=2,
              sliding_window=4, layer_types=["sliding_attention", "full_attention"], query_pre_attn_scalar=2,
              rope_local_base_freq=1e4, final_logit_softcapping=None)
    put("fuzz_config_json", "gemma3.json", json.dumps(g3))
    g2 = dict(CONFIG, model_type="gemma2", hidden_activation="gelu_pytorch_tanh", num_hidden_layers=2,
              sliding_window=4, attn_logit_softcapping=50.0, final_logit_softcapping=30.0)
    put("fuzz_config_json", "gemma2.json", json.dumps(g2))
    put("fuzz_config_json", "gemma3_image_text.json",
        json.dumps({"model_type": "gemma3", "text_config": dict(g3, model_type="gemma3_text"), "eos_token_id": [1, 2]}))
    p3 = dict(CONFIG, model_type="phi3", original_max_position_embeddings=8, max_position_embeddings=64,
              partial_rotary_factor=1.0, sliding_window=None,
              rope_scaling={"type": "longrope", "short_factor": [1.0], "long_factor": [2.0]})
    put("fuzz_config_json", "phi3_longrope.json", json.dumps(p3))
    for rel in ["models/stories260K-hf/config.json", "models/demo-llama-7m/config.json"]:
        if (b := shared(rel)) is not None:
            put("fuzz_config_json", rel.replace("/", "_"), b)

    put("fuzz_gguf", "tiny_model_and_vocab.gguf", gguf())
    put("fuzz_gguf", "vocab_only.gguf", gguf(with_model=False))
    put("fuzz_gguf", "model_only.gguf", gguf(with_vocab=False))
    put("fuzz_gguf", "gemma3_model_and_vocab.gguf", gguf(arch="gemma3"))
    put("fuzz_gguf", "phi3_model_and_vocab.gguf", gguf(arch="phi3"))

    put("fuzz_llama2c_checkpoint", "tiny_shared.bin", llama2c())
    put("fuzz_llama2c_checkpoint", "tiny_unshared.bin", llama2c(shared_classifier=False))
    put("fuzz_llama2c_tokenizer", "tiny.bin", llama2c_tokenizer())
    if (b := shared("models/stories260K/tok512.bin")) is not None:
        put("fuzz_llama2c_tokenizer", "tok512.bin", b)

    bpe = {"version": "1.0", "added_tokens": [{"id": 0, "content": "<s>", "special": True, "single_word": False,
                                                "lstrip": False, "rstrip": False, "normalized": False}],
           "normalizer": None, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                                                 "use_regex": True},
           "post_processor": None, "decoder": {"type": "ByteLevel"},
           "model": {"type": "BPE", "dropout": None, "unk_token": None, "byte_fallback": False,
                     "vocab": {"<s>": 0, "a": 1, "b": 2, "\u0120": 3, "ab": 4, "\u0120a": 5},
                     "merges": ["a b", "\u0120 a"]}}
    put("fuzz_tokenizer_json", "byte_level.json", json.dumps(bpe))
    for rel in ["models/stories260K/tokenizer.json"]:
        if (b := shared(rel)) is not None:
            put("fuzz_tokenizer_json", "stories260K.json", b)

    put("fuzz_sentencepiece", "unigram.model", sentencepiece(["\u2581", "a", "b", "\u2581a", "ab"]))
    put("fuzz_sentencepiece", "byte_fallback.model", sentencepiece(["\u2581", "a", "b", "\u2581ab"], True))

    tc = {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": {"content": "</s>"},
          "pad_token": None, "unk_token": "<unk>", "chat_template": "{% for m in messages %}{{ m['content'] }}{% endfor %}"}
    put("fuzz_tokenizer_config", "tokenizer_config.json", b"\0" + json.dumps(tc).encode())
    put("fuzz_tokenizer_config", "generation_config.json", b"\1" + json.dumps(
        {"bos_token_id": 1, "eos_token_id": [2, 3], "do_sample": False, "temperature": 0.7, "top_p": 0.9, "top_k": 40,
         "max_new_tokens": 16, "num_beams": 2, "early_stopping": "never", "repetition_penalty": 1.1,
         "no_repeat_ngram_size": 2, "length_penalty": 1.0, "pad_token_id": 0}).encode())
    put("fuzz_tokenizer_config", "chat_template.jinja", b"\2{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}")
    for k, rel in enumerate(["models/demo-llama-7m/generation_config.json", "models/stories260K/tokenizer_config.json",
                             "tokenizers/llama3/tokenizer_config.json"]):
        if (b := shared(rel)) is not None:
            put("fuzz_tokenizer_config", rel.replace("/", "_"), (b"\1" if "generation" in rel else b"\0") + b)

    with open(os.path.join(ROOT, "data", "prompt_pairs", "default.jsonl"), "rb") as f:
        put("fuzz_prompt_pairs", "default.jsonl", b"\0" + f.read())
    put("fuzz_prompt_pairs", "arrays.jsonl", b"\0" + b'{"prompt_1": "a doctor, he", "prompt_2": "a doctor, she"}\n\n{"prompt1": "x", "prompt2": "y", "category": "c"}\n')
    put("fuzz_prompt_pairs", "pairs.csv", b"\1prompt1,prompt2,category\n\"The man, he\",\"The woman, she\",gender\nA,B,\n")

    put("fuzz_eval_data", "items.jsonl", b"\0" + b'{"question": "q?", "choices": ["a", "b"], "label": 1}\n\nnot json\n'
        b'{"question": 3}\n')
    put("fuzz_eval_data", "bias.csv", b"\1sent_more,sent_less,stereo_antistereo,bias_type\n\"He \"\"x\"\"\",She,stereo,gender\n"
        b"\"multi\nline\",b,antistereo,race\n\"open")
    put("fuzz_eval_data", "wiki.raw", b"\2 \n = Valkyria = \n \n Senj\xc5\x8d no Valkyria 3 @-@ 1 @,@ 000 ( \" x \" ) . \n"
        b" \n = = Gameplay = = \n \n It 's a test ; ok . \n \n = Next = \n text \n")
    put("fuzz_eval_data", "spaces.txt", b"\3 \t\u00a0x\xe2\x80\x83 y \xff\xfe \x1c")
    put("fuzz_eval_data", "hub_rows.json", b"\4" + json.dumps({
        "features": [{"name": "bias_type", "type": {"_type": "ClassLabel", "names": ["race-color", "gender"]}}],
        "rows": [{"text": "a b", "question": "q", "passage": "p", "label": 1, "page": " = T = \n x \n",
                  "choices": {"text": ["a", "b"], "label": ["A", "B"]}, "answerKey": "B", "id": "x",
                  "sent_more": "He \"x\"", "sent_less": "She", "stereo_antistereo": "stereo", "bias_type": 1,
                  "category": "Age", "context": "c", "ans0": "a", "ans1": "b", "ans2": "c"}],
        "num_rows_total": 1}).encode())

    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(CORPUS) for f in fs)
    assert total <= 2 * 1024 * 1024, total
    print("corpus: %d bytes" % total)


if __name__ == "__main__":
    sys.exit(main())
