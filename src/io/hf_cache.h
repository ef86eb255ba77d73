// The Hugging Face hub cache layout, as huggingface_hub writes it, so that models downloaded by
// Python tools are found here and the other way round:
//   <root>/models--ORG--NAME/refs/<branch>             the commit hash the branch points to
//   <root>/models--ORG--NAME/blobs/<etag>              file contents (sha256 for LFS files)
//   <root>/models--ORG--NAME/snapshots/<commit>/<file> relative symlinks to ../../blobs/<etag>
#pragma once
#include <filesystem>
#include <string>

namespace optipfair {

struct HfModelId {
  std::string org, name;
  std::string revision = "main";  // branch, tag or commit hash

  std::string repo() const { return org + "/" + name; }
};

// Parses "org/name" or "org/name@revision"; throws Error for anything else.
HfModelId hf_parse_model_id(const std::string& id);

// $HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
std::filesystem::path hf_cache_root();

// $HF_ENDPOINT without a trailing slash, else https://huggingface.co.
std::string hf_endpoint();

// $HF_TOKEN, else the token file huggingface-cli login writes ($HF_TOKEN_PATH, $HF_HOME/token); "" if none.
std::string hf_token();

// The snapshot folder of `id` in the cache at `root`, or an empty path when it is not there.
std::filesystem::path hf_cached_snapshot(const std::filesystem::path& root, const HfModelId& id);

// Downloads config, tokenizer and safetensors files of `id` into the cache at `root` and returns
// the snapshot folder. Interrupted downloads resume from blobs/<etag>.incomplete.
std::filesystem::path hf_download_snapshot(const std::filesystem::path& root, const HfModelId& id);

}  // namespace optipfair
