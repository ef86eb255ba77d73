#!/usr/bin/env python3
"""Replays bench_eval's requests the way lm-evaluation-harness's HFLM scores them, in PyTorch.

lm-eval itself needs transformers, which Debian does not package; this script stands in for it
so that `bench_eval`'s throughput has a baseline measured on the same machine, model and
requests. It follows HFLM's `_loglikelihood_tokens` (lm-eval 0.4.x):

* each input is `(context + continuation)[-(max_length + 1):][:-1]`, run whole; requests whose
  `context + continuation[:-1]` are equal share one forward (HFLM's logits cache);
* batches are right-padded to their longest input and the model returns logits for every
  position, then `log_softmax` over the whole vocabulary, as HFLM does;
* the model is transformers' Llama arithmetic written out (RMSNorm in fp32, rotary embeddings,
  grouped-query attention on the eager path with an fp32 softmax, SiLU-gated MLP, logits in fp32),
  in the checkpoint's dtype as HFLM's `dtype="auto"` loads it.

It also checks every log-probability and greedy flag against the ones bench_eval exported, so the
replay doubles as an independent check of our runner (prefix sharing, chunking, kernels).

    apt-get install -y python3-torch python3-numpy
    build/bench/bench_eval --threads 2 --export-requests /tmp/requests.json
    /usr/bin/python3 bench/lmeval_hflm_replay.py /tmp/requests.json --threads 2
"""
import argparse
import json
import math
import struct
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

DTYPES = {"BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32}


def read_safetensors(path):
    with open(path, "rb") as f:
        header_len = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(header_len))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + header_len)
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = torch.from_numpy(np.array(data[begin:end]))
        tensors[name] = raw.view(DTYPES[info["dtype"]]).reshape(info["shape"])
    return tensors


def load_model(folder, dtype):
    config = json.loads((Path(folder) / "config.json").read_text())
    weights = {}
    for shard in sorted(Path(folder).glob("*.safetensors")):
        weights.update(read_safetensors(shard))
    if dtype is None:
        dtype = {"bfloat16": torch.bfloat16, "float16": torch.float16}.get(config.get("torch_dtype"), torch.float32)
    weights = {k: v.to(dtype) for k, v in weights.items()}
    if "lm_head.weight" not in weights:
        weights["lm_head.weight"] = weights["model.embed_tokens.weight"]
    return config, weights, dtype


def rope_inv_freq(config):
    head_dim = config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
    inv = 1.0 / (config.get("rope_theta", 10000.0) ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
    scaling = config.get("rope_scaling")
    if scaling:
        if scaling.get("rope_type", scaling.get("type")) != "llama3":
            raise SystemExit(f"rope_scaling {scaling} is not supported by this replay")
        factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
        old = scaling["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv
        smooth = ((old / wavelen) - low) / (high - low)
        mid = (1 - smooth) * inv / factor + smooth * inv
        inv = torch.where(wavelen > old / low, inv / factor, torch.where(wavelen < old / high, inv, mid))
    return inv.float(), head_dim


def rms_norm(x, w, eps):
    xf = x.float()
    xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    return w * xf.to(x.dtype)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def forward(config, w, inv_freq, head_dim, ids):
    """Logits (fp32) for every position of a right-padded batch of token ids (B, T)."""
    B, T = ids.shape
    H, KV = config["num_attention_heads"], config["num_key_value_heads"]
    eps = config["rms_norm_eps"]
    x = F.embedding(ids, w["model.embed_tokens.weight"])
    freqs = torch.arange(T, dtype=torch.float32)[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
    mask = torch.full((T, T), float("-inf")).triu(1)
    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = F.linear(h, w[p + "self_attn.q_proj.weight"]).view(B, T, H, head_dim).transpose(1, 2)
        k = F.linear(h, w[p + "self_attn.k_proj.weight"]).view(B, T, KV, head_dim).transpose(1, 2)
        v = F.linear(h, w[p + "self_attn.v_proj.weight"]).view(B, T, KV, head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        scores = torch.matmul(q, k.transpose(2, 3)) * head_dim**-0.5 + mask.to(q.dtype)
        probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)
        a = torch.matmul(probs, v).transpose(1, 2).reshape(B, T, H * head_dim)
        x = x + F.linear(a, w[p + "self_attn.o_proj.weight"])
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = F.linear(h, w[p + "mlp.gate_proj.weight"])
        up = F.linear(h, w[p + "mlp.up_proj.weight"])
        x = x + F.linear(F.silu(gate) * up, w[p + "mlp.down_proj.weight"])
    x = rms_norm(x, w["model.norm.weight"], eps)
    return F.linear(x, w["lm_head.weight"]).float()


def replay(config, w, rope, requests, max_length, batch_size):
    """HFLM's loop; returns (log-probability, greedy) per request and the seconds it took."""
    groups = {}
    for r, req in enumerate(requests):
        groups.setdefault(tuple(req["context"] + req["continuation"][:-1]), []).append(r)
    order = sorted(groups, key=lambda key: (-len(key), key))  # HFLM's Collator: longest first
    out = [None] * len(requests)
    start = time.perf_counter()
    for b in range(0, len(order), batch_size):
        keys = order[b : b + batch_size]
        inps = [list(key[-max_length:]) for key in keys]  # (ctx + cont)[-(L+1):][:-1]
        longest = max(len(i) for i in inps)
        ids = torch.tensor([i + [0] * (longest - len(i)) for i in inps])
        multi_logits = F.log_softmax(forward(config, w, *rope, ids), dim=-1)
        for row, key in enumerate(keys):
            inplen = len(inps[row])
            for r in groups[key]:
                cont = requests[r]["continuation"]
                logits = multi_logits[row, inplen - len(cont) : inplen]
                target = torch.tensor(cont)
                greedy = bool((logits.argmax(dim=-1) == target).all())
                out[r] = (float(logits.gather(1, target[:, None]).sum()), greedy)
    return out, time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("requests", help="the file bench_eval --export-requests wrote")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=1, help="HFLM's --batch_size (default 1, as lm-eval)")
    ap.add_argument("--dtype", choices=["auto", "float32", "bfloat16"], default="auto")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    exported = json.loads(Path(args.requests).read_text())
    dtype = None if args.dtype == "auto" else getattr(torch, args.dtype)
    config, w, dtype = load_model(exported["model"], dtype)
    rope = rope_inv_freq(config)
    L = exported["max_length"]
    result = {"model": exported["model"], "threads": args.threads, "batch_size": args.batch_size,
              "dtype": str(dtype).replace("torch.", ""), "torch": torch.__version__}
    with torch.inference_mode():
        forward(config, w, *rope, torch.zeros((1, 8), dtype=torch.long))  # warm-up, untimed
        for task, unit in (("boolq", "requests"), ("wikitext", "tokens")):
            requests = exported[task]
            scored, seconds = replay(config, w, rope, requests, L, args.batch_size)
            amount = len(requests) if unit == "requests" else sum(len(r["continuation"]) for r in requests)
            diffs = [abs(s[0] - r["logprob"]) / len(r["continuation"]) for s, r in zip(scored, requests)]
            ours = exported[f"{task}_{unit}_per_second"]
            result[task] = {
                "requests": len(requests),
                unit: amount,
                "seconds": round(seconds, 3),
                f"{unit}_per_second": round(amount / seconds, 2),
                f"optipfair_{unit}_per_second": round(ours, 2),
                "optipfair_speedup": round(ours / (amount / seconds), 2),
                "max_logprob_diff_per_token": max(diffs),
                "greedy_flags_equal": sum(s[1] == r["is_greedy"] for s, r in zip(scored, requests)),
            }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
