// The models a server offers, and the only way a request names one. A request never carries a
// path the server opens as such: it names a catalog entry, or a path relative to one of the
// configured roots, which is checked to stay inside that root (no "..", no absolute path, no
// symlink leading out).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace optipfair {

enum class ModelSource {
  Given,     // --model-path on the command line (a folder, a file or a Hugging Face id)
  Root,      // found under a --models-dir, or under the output folder (models saved by the server)
  HfCache,   // a snapshot in the user's Hugging Face cache
  Demo,      // the bundled demo model
};

const char* model_source_name(ModelSource source);

struct CatalogEntry {
  std::string id;              // what requests name: "demo", "hf:org/name", "<root>/<relative path>", or as given
  std::string label;           // what the page shows
  std::string path;            // what load_model opens
  ModelSource source = ModelSource::Given;
};

// A folder models may be taken from; `name` is how ids refer to it ("models", "output", ...).
struct CatalogRoot {
  std::string name;
  std::filesystem::path path;
};

struct CatalogOptions {
  std::vector<std::string> model_paths;  // offered as they are
  std::vector<CatalogRoot> roots;        // scanned for Hugging Face folders (config.json) and .gguf files
  std::filesystem::path hf_cache;        // empty: not scanned
  bool demo = true;
};

// Names every root from its folder name, made unique ("models", "models-2"); the output folder is
// always "output".
std::vector<CatalogRoot> catalog_roots(const std::vector<std::filesystem::path>& models_dirs,
                                       const std::filesystem::path& output_dir);

// Lists the entries (cheap: reads directory entries and config presence, loads nothing). Roots are
// scanned three levels deep; a symlink that leads out of its root is skipped.
std::vector<CatalogEntry> catalog_list(const CatalogOptions& options);

// The entry a request's `model` names: an id from catalog_list, or "<root name>/<relative path>"
// to a model under that root. Throws Error ("unknown model ...") for anything else, including a
// relative path with "..", an absolute path, or one whose real location is outside the root.
CatalogEntry catalog_resolve(const CatalogOptions& options, const std::string& ref);

}  // namespace optipfair
