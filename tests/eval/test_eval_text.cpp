// Python's text rules that lm-eval's numbers depend on: whitespace, word counts, the WikiText
// detokenizer and document split, CSV quoting.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "eval/eval_text.h"
#include "test_support.h"

namespace optipfair {
namespace {

TEST(EvalText, PythonWhitespace) {
  EXPECT_EQ(python_rstrip("Answer: \n\t"), "Answer:");
  EXPECT_EQ(python_rstrip("a\xC2\xA0"), "a");           // NBSP is whitespace to str.isspace
  EXPECT_EQ(python_rstrip("a\xE2\x80\x8B"), "a\xE2\x80\x8B");  // zero-width space is not
  EXPECT_EQ(python_strip("  x y \xE3\x80\x80"), "x y");
  EXPECT_EQ(utf8_length("caf\xC3\xA9"), 4);
  // re.split(r"\s+", s): " a  b " -> ['', 'a', 'b', ''].
  EXPECT_EQ(count_words_python(" a  b "), 4);
  EXPECT_EQ(count_words_python("a b"), 2);
  EXPECT_EQ(count_words_python(""), 1);
}

TEST(EvalText, WikitextDetokenizerSteps) {
  EXPECT_EQ(wikitext_detokenize("1 @,@ 000 @.@ 5 and well @-@ known"), "1,000.5 and well-known");
  EXPECT_EQ(wikitext_detokenize("a , b . c ( d e ) \" f \" the dogs ' toys"), "a, b. c (d e) \"f\" the dogs' toys");
  EXPECT_EQ(wikitext_detokenize(" = = Heading = = \n text 's"), " == Heading ==\ntext's");
  EXPECT_EQ(wikitext_detokenize("5 \xC2\xB0 C and N items"), "5\xC2\xB0" "C and 1 items");
  EXPECT_EQ(wikitext_detokenize("x N y"), "x 1 y");
  // An opening mark without a closing one stays as it is.
  EXPECT_EQ(wikitext_detokenize("( open"), "( open");
}

TEST(EvalText, WikitextDocumentSplit) {
  const std::string raw = " \n = A = \n \n text a \n = = Sub = = \n more \n = B = \n text b \n";
  const auto pages = wikitext_split_documents(raw);
  ASSERT_EQ(pages.size(), 2u);
  EXPECT_EQ(pages[0], " = A = \n \n text a \n = = Sub = = \n more ");
  EXPECT_EQ(pages[1], " = B = \n text b \n");
}

TEST(EvalText, WikitextTestSplitHas62Articles) {
  const auto path = test::shared_path("data/wikitext-2-raw/wiki.test.raw");
  OPTIPFAIR_REQUIRE_SHARED(path);
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  // EleutherAI/wikitext_document_level's wikitext-2-raw-v1 test split has 62 rows.
  EXPECT_EQ(wikitext_split_documents(ss.str()).size(), 62u);
}

TEST(EvalText, CsvQuoting) {
  int64_t bad = 0;
  const auto rows = parse_csv("a,b\n\"x, \"\"y\"\"\",\"two\nlines\"\r\n", &bad);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1][0], "x, \"y\"");
  EXPECT_EQ(rows[1][1], "two\nlines");
  EXPECT_EQ(bad, 0);
  parse_csv("a,b\n1,2\n\"open,3\n", &bad);
  EXPECT_EQ(bad, 3);
}

}  // namespace
}  // namespace optipfair
