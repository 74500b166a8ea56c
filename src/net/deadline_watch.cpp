#include "net/deadline_watch.hpp"

#include <boost/asio/steady_timer.hpp>

namespace lxcdn::net {

struct deadline_watch::state {
  explicit state(const tcp::socket::executor_type& ex) : timer(ex) {}
  boost::asio::steady_timer timer;
  tcp::socket* socket = nullptr;                        // null once detached
  clock::time_point deadline = clock::time_point::max();  // the one in force
  clock::time_point armed_for = clock::time_point::max();  // when the timer fires; max: not armed
};

void deadline_watch::arm(const std::shared_ptr<state>& s, clock::time_point at) {
  s->armed_for = at;
  s->timer.expires_at(at);  // a handler still pending gets operation_aborted and does nothing
  s->timer.async_wait([s](const boost::system::error_code& ec) {
    if (ec || s->socket == nullptr) {
      return;
    }
    s->armed_for = clock::time_point::max();
    if (s->deadline == clock::time_point::max()) {
      return;
    }
    if (clock::now() >= s->deadline) {
      boost::system::error_code ignored;
      s->socket->cancel(ignored);
      return;
    }
    arm(s, s->deadline);  // the deadline moved later since arming: wait for it
  });
}

void deadline_watch::guard(tcp::socket& socket) {
  if (deadline_ == clock::time_point::max()) {
    if (state_) {
      state_->deadline = deadline_;
    }
    return;
  }
  if (!state_) {
    state_ = std::make_shared<state>(socket.get_executor());
    state_->socket = &socket;
  }
  state_->deadline = deadline_;
  if (state_->armed_for > deadline_) {  // not armed, or armed for later than needed
    arm(state_, deadline_);
  }
}

void deadline_watch::detach() {
  if (state_) {
    state_->socket = nullptr;
    state_->timer.cancel();
    state_.reset();
  }
}

}  // namespace lxcdn::net
