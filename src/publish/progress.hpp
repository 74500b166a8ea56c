#pragma once

#include <cstddef>
#include <ostream>
#include <string>

namespace lxcdn::publish {

// Progress of the long steps (hashing, deltas, pushing) on a terminal: one line rewritten in
// place ("hashing 3/10 debian/..."). Silent when the stream is not a terminal, so logs and
// scripts only get the summary. Not thread-safe.
class progress {
 public:
  progress(std::ostream& out, bool terminal) : out_(out), terminal_(terminal) {}
  ~progress() { done(); }
  progress(const progress&) = delete;
  progress& operator=(const progress&) = delete;

  void step(const std::string& what, std::size_t i, std::size_t n, const std::string& item);
  void done();  // ends the in-place line

 private:
  std::ostream& out_;
  bool terminal_;
  bool open_ = false;
};

}  // namespace lxcdn::publish
