// The evaluation data readers in src/eval: JSONL lines (read_jsonl, with an item parser shaped like
// the tasks' ones), CSV (parse_csv, the bias tasks' files), WikiText raw text (document split and
// detokenizer) and the Python string rules they use. The first byte picks the reader.
// A first byte of 4 reads a page of the Hub's rows API through every task's converter.
// Not covered: the per-task item parsers, which only run inside a task against a model.
#include <string>
#include <string_view>

#include "eval/eval_data_sources.h"
#include "eval/eval_task_common.h"
#include "eval/eval_text.h"
#include "support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace optipfair;
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  volatile size_t sink = 0;
  OPTIPFAIR_FUZZ_BODY({
    switch (data[0] % 5) {
      case 0: {
        detail::SkipCounter skips;
        // Like the tasks' parsers: typed reads that throw json exceptions for a wrong shape.
        detail::read_jsonl(std::string(text), "data.jsonl", skips, [&](const nlohmann::json& j) {
          sink = sink + j.at("question").get<std::string>().size();
          for (const auto& c : j.at("choices")) sink = sink + c.get<std::string>().size();
          sink = sink + static_cast<size_t>(j.at("label").get<int64_t>());
        });
        if (skips.count < 0) fuzz::fail("negative skip count");
        break;
      }
      case 1: {
        int64_t bad_row = -1;
        for (const auto& row : parse_csv(text, &bad_row))
          for (const auto& cell : row) sink = sink + cell.size();
        if (bad_row < 0) fuzz::fail("parse_csv left bad_row unset");
        break;
      }
      case 2:
        for (const auto& page : wikitext_split_documents(text)) {
          sink = sink + wikitext_detokenize(page).size();
          sink = sink + static_cast<size_t>(count_words_python(page));
        }
        break;
      case 4: {
        // A page of the Hub's rows API, turned into every task's files.
        const nlohmann::json page = nlohmann::json::parse(text, nullptr, false);
        if (!page.is_object()) break;
        std::vector<nlohmann::json> rows;
        if (page.contains("rows") && page["rows"].is_array())
          for (const auto& r : page["rows"]) rows.push_back(r);
        const nlohmann::json features = page.contains("features") ? page["features"] : nlohmann::json::array();
        for (const TaskDataSource& source : task_data_sources())
          for (const HubSource& h : source.hub)
            for (const auto& [file, content] : hub_rows_to_files(h, rows, features)) {
              if (file.find("..") != std::string::npos || file.empty() || file[0] == '/')
                fuzz::fail("a file name made from the data leaves the data folder");
              sink = sink + content.size();
            }
        break;
      }
      default:
        sink = sink + python_strip(text).size() + python_rstrip(text).size() + static_cast<size_t>(utf8_length(text));
        break;
    }
  })
}
