// What `optipfair serve` refuses: models outside its roots (.., symlinks, absolute paths, encoded
// tricks), requests not addressed to localhost, other sites' posts, oversized bodies, requests
// without the token when one is set, and public addresses without a token.
#include <fstream>

#include "serve/model_catalog.h"
#include "serve_fixture.h"
#include "util/error.h"

namespace optipfair::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// A catalog with one root "zoo" holding a real model folder, a fake one outside it, and a symlink
// from inside the root to the outside one.
class Catalog : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(scratch_ / "zoo" / "inside");
    fs::create_directories(scratch_ / "secret");
    std::ofstream(scratch_ / "zoo" / "inside" / "config.json") << "{}";
    std::ofstream(scratch_ / "secret" / "config.json") << "{}";
    std::ofstream(scratch_ / "secret" / "weights.gguf") << "GGUF";
    fs::create_directory_symlink(scratch_ / "secret", scratch_ / "zoo" / "link_out");
    fs::create_symlink(scratch_ / "secret" / "weights.gguf", scratch_ / "zoo" / "file_out.gguf");
    // What a save being written (or killed midway) leaves: never offered.
    fs::create_directories(scratch_ / "zoo" / "saved.tmp-123");
    std::ofstream(scratch_ / "zoo" / "saved.tmp-123" / "config.json") << "{}";
    std::ofstream(scratch_ / "zoo" / "half.gguf.tmp-77") << "GGUF";
    options_.roots = catalog_roots({scratch_ / "zoo"}, {});
    options_.demo = false;
  }
  ScratchDir scratch_;
  CatalogOptions options_;
};

TEST_F(Catalog, ListsWhatIsInsideTheRootOnly) {
  std::vector<std::string> ids;
  for (const CatalogEntry& e : catalog_list(options_)) ids.push_back(e.id);
  EXPECT_EQ(ids, std::vector<std::string>{"zoo/inside"});
  EXPECT_EQ(catalog_resolve(options_, "zoo/inside").path, (scratch_ / "zoo" / "inside").string());
}

TEST_F(Catalog, RefusesEveryWayOut) {
  const std::string secret = (scratch_ / "secret").string();
  for (const std::string& ref : std::vector<std::string>{"zoo/../secret", "zoo/inside/../../secret", "zoo/link_out", "zoo/file_out.gguf",
                                "zoo/link_out/weights.gguf", secret, "/" + secret, "zoo/" + secret, "zoo//inside/..",
                                "zoo/%2e%2e/secret", "zoo/..%2fsecret", "zoo\\..\\secret", "zoo/./inside",
                                std::string("zoo/inside\0/x", 13), "other/inside", "zoo/", "", "hf:../../etc"}) {
    const std::string e = error_of([&] { catalog_resolve(options_, ref); });
    EXPECT_NE(e.find("unknown model"), std::string::npos) << "accepted: " << ref;
  }
}

TEST_F(Catalog, RootNamesStayDistinct) {
  fs::create_directories(scratch_ / "a" / "models");
  fs::create_directories(scratch_ / "b" / "models");
  const auto roots = catalog_roots({scratch_ / "a" / "models", scratch_ / "b" / "models", scratch_ / "output"}, scratch_ / "out");
  ASSERT_EQ(roots.size(), 4u);
  EXPECT_EQ(roots[0].name, "models");
  EXPECT_EQ(roots[1].name, "models-2");
  EXPECT_EQ(roots[2].name, "output-2");  // "output" is the output folder's
  EXPECT_EQ(roots[3].name, "output");
}

class ServeSecurity : public ServeFixture {
 protected:
  void SetUp() override { start(); }
};

TEST_F(ServeSecurity, ThePageCarriesAStrictPolicy) {
  auto r = get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("<script src=\"/app.js\""), std::string::npos);
  const std::string csp = r->get_header_value("Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(get("/app.js")->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
}

TEST_F(ServeSecurity, PathsInUrlsStayInside) {
  for (const std::string path : {"/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/app.js/../../etc/passwd",
                                 "/api/jobs/..%2f..%2fetc", "/etc/passwd", "/index.html"}) {
    auto r = get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_EQ(r->body.find("root:"), std::string::npos) << path;
  }
  for (const std::string model : {"zoo%2F..%2F..%2Fetc", "zoo/%2e%2e/%2e%2e/etc", "%2Fetc%2Fpasswd", "..%2F..%2Fetc"}) {
    auto r = get("/api/model-info?model=" + model);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << model;
    EXPECT_NE(body_json(r)["error"].get<std::string>().find("unknown model"), std::string::npos);
  }
}

TEST_F(ServeSecurity, RefusesOtherHostsOtherSitesAndBigBodies) {
  // DNS rebinding: a name that resolved to us but is not ours.
  httplib::Client c = client();
  auto rebound = c.Get("/api/models", httplib::Headers{{"Host", "evil.example:80"}});
  ASSERT_TRUE(rebound);
  EXPECT_EQ(rebound->status, 403);
  auto cross = c.Post("/api/analyze", httplib::Headers{{"Origin", "http://evil.example"}}, "{}", "application/json");
  ASSERT_TRUE(cross);
  EXPECT_EQ(cross->status, 403);
  const std::string big(2 << 20, ' ');
  auto huge = c.Post("/api/analyze", big, "application/json");
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->status, 413);
  auto r = get("/api/models");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);  // and it still serves
}

TEST(ServeOptionsCheck, APublicAddressNeedsAToken) {
  ScratchDir scratch;
  ServeOptions o;
  o.host = "0.0.0.0";
  o.output_dir = scratch / "out";
  EXPECT_NE(error_of([&] { Server s(o); }).find("needs an access token"), std::string::npos);
  o.token = "short";
  EXPECT_NE(error_of([&] { Server s(o); }).find("16 characters"), std::string::npos);
  EXPECT_TRUE(host_is_loopback("127.0.0.1"));
  EXPECT_TRUE(host_is_loopback("::1"));
  EXPECT_FALSE(host_is_loopback("0.0.0.0"));
  EXPECT_EQ(make_access_token().size(), 32u);
  EXPECT_NE(make_access_token(), make_access_token());
}

class ServeWithToken : public ServeFixture {
 protected:
  void SetUp() override {
    ServeOptions o;
    o.token = "0123456789abcdef0123";
    start(o);
  }
};

TEST_F(ServeWithToken, EveryRequestNeedsTheToken) {
  httplib::Client bare("127.0.0.1", port_);
  auto none = bare.Get("/api/models");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  auto wrong = bare.Get("/api/models", httplib::Headers{{"Authorization", "Bearer 0123456789abcdef0124"}});
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(bare.Get("/?token=nope")->status, 401);
  // The URL printed at start sets a cookie that the page's later requests carry.
  auto page = bare.Get("/?token=0123456789abcdef0123");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  const std::string cookie = page->get_header_value("Set-Cookie");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  auto with_cookie = bare.Get("/api/models", httplib::Headers{{"Cookie", cookie.substr(0, cookie.find(';'))}});
  EXPECT_EQ(with_cookie->status, 200);
  EXPECT_EQ(get("/api/models")->status, 200);  // bearer token
  // A POST never takes the token from the URL.
  auto post_query = bare.Post("/api/pairs/template?token=0123456789abcdef0123", "{}", "application/json");
  EXPECT_EQ(post_query->status, 401);
}

}  // namespace
}  // namespace optipfair::test
