#include "publish/progress.hpp"

namespace lxcdn::publish {

void progress::step(const std::string& what, std::size_t i, std::size_t n, const std::string& item) {
  if (!terminal_) {
    return;
  }
  std::string line = what + " " + std::to_string(i) + "/" + std::to_string(n) + " " + item;
  if (line.size() > 100) {
    line = line.substr(0, 97) + "...";
  }
  out_ << "\r\033[K" << line << std::flush;
  open_ = true;
}

void progress::done() {
  if (open_) {
    out_ << "\r\033[K" << std::flush;
    open_ = false;
  }
}

}  // namespace lxcdn::publish
