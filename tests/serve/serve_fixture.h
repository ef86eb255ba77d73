// A running `optipfair serve` for tests: the demo model, stories260K-hf given by path and copied
// into a models folder ("zoo"), an output folder, any free port on 127.0.0.1.
#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "serve/server.h"
#include "test_support.h"

namespace optipfair::test {

class ServeFixture : public ::testing::Test {
 protected:
  // Starts a server with `options` completed by the fixture's folders; call from SetUp or a test.
  void start(ServeOptions options = {});
  void TearDown() override;

  httplib::Client client() const;
  // GET and POST (JSON) with the headers a page on this origin sends.
  httplib::Result get(const std::string& path) const;
  httplib::Result post(const std::string& path, const nlohmann::json& body) const;
  // Submits `body` to `path` and waits for the job to finish; returns its final JSON (with result).
  nlohmann::json run_job(const std::string& path, const nlohmann::json& body) const;
  nlohmann::json wait_job(const std::string& id) const;

  std::filesystem::path stories() const { return shared_path("models/stories260K-hf"); }
  bool have_stories() const { return std::filesystem::exists(stories() / "model.safetensors"); }

  ScratchDir scratch_;
  std::filesystem::path zoo_, output_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::string token_;
};

// The JSON body of a response; fails the test when there is none.
nlohmann::json body_json(const httplib::Result& r);

}  // namespace optipfair::test
