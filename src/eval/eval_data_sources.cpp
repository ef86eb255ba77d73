#include "eval/eval_data_sources.h"

#include <algorithm>

#include "util/error.h"

namespace optipfair {

namespace {

using json = nlohmann::json;

std::vector<TaskDataSource> make_sources() {
  std::vector<TaskDataSource> s;
  s.push_back({"wikitext", {"wikitext-2-raw/wiki.test.raw"}, false,
               {{{"EleutherAI/wikitext_document_level", "wikitext-2-raw-v1", "test"}, RowFormat::WikitextPages,
                 "wikitext-2-raw/wiki.test.raw"}},
               {}});
  s.push_back({"lambada_openai", {"lambada_openai/lambada_test.jsonl"}, false,
               {{{"EleutherAI/lambada_openai", "default", "test"}, RowFormat::JsonLines, "lambada_openai/lambada_test.jsonl"}},
               {}});
  // lm-eval names "super_glue"; the Hub serves that data set as aps/super_glue.
  s.push_back({"boolq", {"boolq/val.jsonl"}, false,
               {{{"aps/super_glue", "boolq", "validation"}, RowFormat::JsonLines, "boolq/val.jsonl"}}, {}});
  for (const char* stem : {"ARC-Easy", "ARC-Challenge"}) {
    const std::string task = stem == std::string("ARC-Easy") ? "arc_easy" : "arc_challenge";
    const std::string test = std::string("arc/") + stem + "-Test.jsonl", dev = std::string("arc/") + stem + "-Dev.jsonl";
    s.push_back({task, {test, dev}, false,
                 {{{"allenai/ai2_arc", stem, "test"}, RowFormat::ArcQuestion, test},
                  {{"allenai/ai2_arc", stem, "validation"}, RowFormat::ArcQuestion, dev}},
                 {}});
  }
  s.push_back({"crows_pairs_english", {"crows-pairs/crows_pairs_anonymized.csv"}, false,
               {{{"jannalu/crows_pairs_multilingual", "english", "test"}, RowFormat::CrowsPairsCsv,
                 "crows-pairs/crows_pairs_anonymized.csv"}},
               {}});
  TaskDataSource bbq{"bbq", {}, true, {{{"oskarvanderwal/bbq", "All", "test"}, RowFormat::BbqCategories, "bbq"}}, {}};
  for (const std::string& c : bbq_categories()) bbq.files.push_back("bbq/" + c + ".jsonl");
  s.push_back(bbq);
  // The authors' files (uclanlp/corefBias, MIT), byte for byte as the rest of the project reads them.
  const std::string base = "uclanlp/corefBias/master/WinoBias/wino/data/";
  TaskDataSource wino{"winobias", {}, false, {}, {}};
  const std::vector<std::pair<std::string, std::string>> wino_files = {
      {"pro_stereotyped_type1.txt.test", "db7838907238a758eeb5779e48f38c013b892910d6fe864456c59f04245c6689"},
      {"anti_stereotyped_type1.txt.test", "331db5bd74bfefebf146a60b67645152a4a1991570d2a56f57154103ac361dd2"},
      {"pro_stereotyped_type2.txt.test", "ea1c1fd94fa612e3cc44d7fa3cc4cb76021bb63fdf94f9826f430051e9052438"},
      {"anti_stereotyped_type2.txt.test", "336571ac1ea8c06cd2aba8e5dd2bd98e00acc0c48da3e4ec5ec7e54eb2633a8f"},
      {"male_occupations.txt", "6b82d88847b69d56d207a0c396e9830b031890de585e916e6b4e9bc50672657e"},
      {"female_occupations.txt", "693bff12286c2c1d46c7d4d45a44a631574710c30b39c1a3001bb7bdebb44ed8"}};
  for (const auto& [name, sha] : wino_files) {
    wino.files.push_back("winobias/" + name);
    wino.raw.push_back({base + name, "winobias/" + name, sha});
  }
  s.push_back(wino);
  return s;
}

// A ClassLabel's integer as its name; strings pass through.
std::string label_text(const json& features, const std::string& name, const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (!value.is_number_integer()) throw Error("field \"" + name + "\" is neither text nor a class label");
  for (const json& f : features) {
    if (!f.is_object() || f.value("name", "") != name) continue;
    const json& type = f.contains("type") ? f["type"] : json();
    const json& names = type.is_object() && type.contains("names") ? type["names"] : json();
    const int64_t i = value.get<int64_t>();
    if (names.is_array() && i >= 0 && i < static_cast<int64_t>(names.size()) && names[static_cast<size_t>(i)].is_string())
      return names[static_cast<size_t>(i)].get<std::string>();
  }
  throw Error("field \"" + name + "\" holds class " + value.dump() + ", which its features do not name");
}

std::string text_field(const json& row, const char* name) {
  const auto it = row.find(name);
  if (it == row.end() || !it->is_string()) throw Error(std::string("it has no text field \"") + name + "\"");
  return it->get<std::string>();
}

std::string csv_field(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

json arc_question(const json& row) {
  const json& choices = row.at("choices");
  const json& texts = choices.at("text");
  const json& labels = choices.at("label");
  if (!texts.is_array() || !labels.is_array() || texts.size() != labels.size())
    throw Error("its choices do not pair texts with labels");
  json list = json::array();
  for (size_t i = 0; i < texts.size(); ++i)
    list.push_back({{"text", texts[i].get<std::string>()}, {"label", labels[i].get<std::string>()}});
  return {{"id", row.value("id", "")},
          {"question", {{"stem", text_field(row, "question")}, {"choices", list}}},
          {"answerKey", text_field(row, "answerKey")}};
}

}  // namespace

const std::vector<TaskDataSource>& task_data_sources() {
  static const std::vector<TaskDataSource> sources = make_sources();
  return sources;
}

const TaskDataSource* task_data_source(const std::string& task) {
  for (const TaskDataSource& s : task_data_sources())
    if (s.task == task) return &s;
  return nullptr;
}

const std::vector<std::string>& bbq_categories() {
  static const std::vector<std::string> c = {"Age", "Disability_status", "Gender_identity", "Nationality",
                                             "Physical_appearance", "Race_ethnicity", "Race_x_SES", "Race_x_gender",
                                             "Religion", "SES", "Sexual_orientation"};
  return c;
}

std::map<std::string, std::string> hub_rows_to_files(const HubSource& source, const std::vector<json>& rows,
                                                     const json& features) {
  std::map<std::string, std::string> files;
  std::string& main = files[source.file];
  if (source.format == RowFormat::CrowsPairsCsv) main = ",sent_more,sent_less,stereo_antistereo,bias_type\n";
  if (source.format == RowFormat::BbqCategories) files.clear();
  for (size_t i = 0; i < rows.size(); ++i) {
    const json& row = rows[i];
    try {
      if (!row.is_object()) throw Error("it is not an object");
      switch (source.format) {
        case RowFormat::JsonLines:
          main += row.dump(-1, ' ', false, json::error_handler_t::strict) + "\n";
          break;
        case RowFormat::ArcQuestion:
          main += arc_question(row).dump() + "\n";
          break;
        case RowFormat::CrowsPairsCsv:
          main += std::to_string(i) + "," + csv_field(text_field(row, "sent_more")) + "," +
                  csv_field(text_field(row, "sent_less")) + "," +
                  csv_field(label_text(features, "stereo_antistereo", row.at("stereo_antistereo"))) + "," +
                  csv_field(label_text(features, "bias_type", row.at("bias_type"))) + "\n";
          break;
        case RowFormat::BbqCategories: {
          // The category names a file: only the known ones, never a path from the data.
          const std::string c = label_text(features, "category", row.at("category"));
          const auto& known = bbq_categories();
          if (std::find(known.begin(), known.end(), c) == known.end()) throw Error("its category \"" + c + "\" is not a BBQ category");
          files[source.file + "/" + c + ".jsonl"] += row.dump() + "\n";
          break;
        }
        case RowFormat::WikitextPages:
          main += text_field(row, "page");
          break;
      }
    } catch (const Error& e) {
      throw Error(source.split.dataset + " (" + source.split.config + ", " + source.split.split + ") row " +
                  std::to_string(i) + " cannot be used: " + e.what());
    } catch (const json::exception& e) {
      throw Error(source.split.dataset + " (" + source.split.config + ", " + source.split.split + ") row " +
                  std::to_string(i) + " is not what the task reads (" + e.what() + ")");
    }
  }
  return files;
}

}  // namespace optipfair
