#include "serve/model_catalog.h"

#include <algorithm>
#include <system_error>

#include "io/hf_cache.h"
#include "util/error.h"
#include "util/paths.h"
#include "util/resources.h"

namespace fs = std::filesystem;

namespace optipfair {

namespace {

constexpr int kScanDepth = 3;
constexpr size_t kMaxEntriesPerRoot = 2000;

bool is_model_folder(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "config.json", ec);
}

bool is_model_file(const fs::path& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return false;
  return file.extension() == ".gguf";
}

void scan_root(const CatalogRoot& root, std::vector<CatalogEntry>& out) {
  std::error_code ec;
  if (!fs::is_directory(root.path, ec)) return;
  size_t found = 0;
  fs::recursive_directory_iterator it(root.path, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (found >= kMaxEntriesPerRoot) break;
    const fs::path& p = it->path();
    if (it.depth() >= kScanDepth) it.disable_recursion_pending();
    if (!path_same_or_inside(p, root.path)) {  // a symlink out of the root
      it.disable_recursion_pending();
      continue;
    }
    // A save in progress (or killed) writes under "<name>.tmp-<pid>": not a model to offer.
    const std::string name = p.filename().string();
    if (name.find(".tmp-") != std::string::npos || name.find(".old-") != std::string::npos) {
      it.disable_recursion_pending();
      continue;
    }
    const bool folder = it->is_directory(ec) && is_model_folder(p);
    if (!folder && !is_model_file(p)) continue;
    if (folder) it.disable_recursion_pending();
    const std::string rel = fs::relative(p, root.path, ec).generic_string();
    if (ec || rel.empty()) continue;
    out.push_back({root.name + "/" + rel, root.name + "/" + rel, p.string(), ModelSource::Root});
    ++found;
  }
}

void scan_hf_cache(const fs::path& cache, std::vector<CatalogEntry>& out) {
  std::error_code ec;
  if (cache.empty() || !fs::is_directory(cache, ec)) return;
  std::vector<CatalogEntry> found;
  for (fs::directory_iterator it(cache, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("models--", 0) != 0) continue;
    const std::string rest = name.substr(8);
    const size_t sep = rest.find("--");
    if (sep == std::string::npos || sep == 0 || sep + 2 >= rest.size()) continue;
    HfModelId id;
    id.org = rest.substr(0, sep);
    id.name = rest.substr(sep + 2);
    const fs::path snapshot = hf_cached_snapshot(cache, id);
    if (snapshot.empty() || !fs::is_regular_file(snapshot / "config.json", ec)) continue;
    found.push_back({"hf:" + id.repo(), id.repo() + " (Hugging Face cache)", snapshot.string(), ModelSource::HfCache});
  }
  std::sort(found.begin(), found.end(), [](const CatalogEntry& a, const CatalogEntry& b) { return a.id < b.id; });
  out.insert(out.end(), found.begin(), found.end());
}

// A relative path a request may name: plain components only.
bool safe_relative(const std::string& rel) {
  if (rel.empty() || rel.size() > 1024 || rel.find('\0') != std::string::npos || rel.find('\\') != std::string::npos)
    return false;
  const fs::path p(rel);
  if (p.is_absolute() || p.has_root_name() || p.has_root_directory()) return false;
  for (const fs::path& part : p)
    if (part == ".." || part == "." || part.empty()) return false;
  return true;
}

}  // namespace

const char* model_source_name(ModelSource source) {
  switch (source) {
    case ModelSource::Given: return "given";
    case ModelSource::Root: return "folder";
    case ModelSource::HfCache: return "hf_cache";
    case ModelSource::Demo: return "demo";
  }
  return "given";
}

std::vector<CatalogRoot> catalog_roots(const std::vector<fs::path>& models_dirs, const fs::path& output_dir) {
  std::vector<CatalogRoot> roots;
  auto taken = [&](const std::string& n) {
    return n == "output" || std::any_of(roots.begin(), roots.end(), [&](const CatalogRoot& r) { return r.name == n; });
  };
  for (const fs::path& dir : models_dirs) {
    std::string base = fs::absolute(dir).lexically_normal().filename().string();
    if (base.empty() || base == "." || base == "..") base = "models";
    std::string name = base;
    for (int k = 2; taken(name); ++k) name = base + "-" + std::to_string(k);
    roots.push_back({name, dir});
  }
  if (!output_dir.empty()) roots.push_back({"output", output_dir});
  return roots;
}

std::vector<CatalogEntry> catalog_list(const CatalogOptions& o) {
  std::vector<CatalogEntry> out;
  if (o.demo) {
    const fs::path demo = bundled_demo_model();
    std::error_code ec;
    if (fs::exists(demo, ec)) out.push_back({"demo", "demo-llama-7m (bundled)", demo.string(), ModelSource::Demo});
  }
  for (const std::string& m : o.model_paths) out.push_back({m, m, m, ModelSource::Given});
  for (const CatalogRoot& r : o.roots) scan_root(r, out);
  scan_hf_cache(o.hf_cache, out);
  return out;
}

CatalogEntry catalog_resolve(const CatalogOptions& o, const std::string& ref) {
  const std::string shown = ref.size() > 200 ? ref.substr(0, 200) + "..." : ref;
  if (ref == "demo" && o.demo) return {"demo", "demo-llama-7m (bundled)", bundled_demo_model().string(), ModelSource::Demo};
  for (const std::string& m : o.model_paths)
    if (ref == m) return {m, m, m, ModelSource::Given};
  if (ref.rfind("hf:", 0) == 0 && !o.hf_cache.empty()) {
    std::vector<CatalogEntry> cached;
    scan_hf_cache(o.hf_cache, cached);
    for (const CatalogEntry& e : cached)
      if (e.id == ref) return e;
  }
  const size_t slash = ref.find('/');
  if (slash != std::string::npos) {
    const std::string root_name = ref.substr(0, slash), rel = ref.substr(slash + 1);
    for (const CatalogRoot& r : o.roots) {
      if (r.name != root_name) continue;
      if (!safe_relative(rel)) break;
      const fs::path p = r.path / fs::path(rel);
      std::error_code ec;
      if (!fs::exists(p, ec) || !path_same_or_inside(p, r.path)) break;
      if (!(fs::is_directory(p, ec) ? is_model_folder(p) : is_model_file(p))) break;
      return {ref, ref, p.string(), ModelSource::Root};
    }
  }
  throw Error("unknown model \"" + shown + "\": choose one of the models the server offers");
}

}  // namespace optipfair
