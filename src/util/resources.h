// Where the files optipfair ships with live (the bundled demo model, the default prompt pairs), so
// that an installed binary finds them without the source tree:
//   1. the environment: $OPTIPFAIR_DATA_DIR (the folder holding prompt_pairs/) and
//      $OPTIPFAIR_DEMO_MODEL;
//   2. beside the running executable, in the install layout: <prefix>/bin/optipfair ->
//      <prefix>/share/optipfair/{data,models/demo};
//   3. the source tree this build was configured from (a build that was never installed).
#pragma once
#include <filesystem>

namespace optipfair {

// The folder holding prompt_pairs/ (default.jsonl, attributes.json).
std::filesystem::path bundled_data_dir();
// The bundled demo model's folder.
std::filesystem::path bundled_demo_model();
// <prefix>/share/optipfair when the running executable sits in <prefix>/bin and that folder exists;
// empty otherwise.
std::filesystem::path installed_share_dir();

}  // namespace optipfair
