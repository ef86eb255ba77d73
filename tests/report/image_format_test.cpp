#include <gtest/gtest.h>

#include "report/image_format.h"
#include "util/error.h"

namespace optipfair {
namespace {

TEST(ImageFormat, NamesInAnyCaseWithOrWithoutDot) {
  EXPECT_EQ(image_format_from_name("png"), ImageFormat::PNG);
  EXPECT_EQ(image_format_from_name("SVG"), ImageFormat::SVG);
  EXPECT_EQ(image_format_from_name(".Pdf"), ImageFormat::PDF);
}

TEST(ImageFormat, UnknownNameIsAClearError) {
  try {
    image_format_from_name("jpeg");
    FAIL() << "no error for jpeg";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'jpeg'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("png, svg or pdf"), std::string::npos) << e.what();
  }
  EXPECT_THROW(image_format_from_name(""), Error);
}

TEST(ImageFormat, ExtensionsNamesAndMimeTypes) {
  EXPECT_EQ(image_format_extension(ImageFormat::PNG), ".png");
  EXPECT_EQ(image_format_extension(ImageFormat::SVG), ".svg");
  EXPECT_EQ(image_format_extension(ImageFormat::PDF), ".pdf");
  EXPECT_EQ(image_format_name(ImageFormat::SVG), "svg");
  EXPECT_EQ(image_format_mime_type(ImageFormat::SVG), "image/svg+xml");
  for (ImageFormat f : {ImageFormat::PNG, ImageFormat::SVG, ImageFormat::PDF}) {
    EXPECT_EQ(image_format_from_name(image_format_name(f)), f);
    EXPECT_EQ(image_format_from_name(image_format_extension(f)), f);
  }
}

}  // namespace
}  // namespace optipfair
