#include "util/text_file.h"

#include <unistd.h>

#include <fstream>
#include <string>

#include "util/error.h"

namespace optipfair {

namespace fs = std::filesystem;

void write_text_file(const fs::path& path, std::string_view text) {
  // The process id keeps two writers of the same file from sharing a temporary.
  const fs::path tmp = path.string() + ".tmp-" + std::to_string(::getpid());
  std::error_code ec;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot write " + path.string());
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
    if (!out) {
      out.close();
      fs::remove(tmp, ec);
      throw Error("cannot write " + path.string() + " (is the disk full?)");
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove(tmp, ec);
    throw Error("cannot write " + path.string() + ": " + why);
  }
}

}  // namespace optipfair
