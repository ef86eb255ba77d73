// The one exception type the library throws for bad input or bad state.
// Its message is a single sentence meant for the user; the CLI prints it and exits 1.
#pragma once
#include <stdexcept>
#include <string>

namespace optipfair {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace optipfair
