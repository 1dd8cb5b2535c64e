#include "http/server.hpp"

#include "http/errors.hpp"
#include "http/guard.hpp"
#include "telemetry/child_span.hpp"
#include "telemetry/log.hpp"

namespace booking {

http_server::http_server(const server_config& cfg, core& c, metrics& m, tracer& t)
  : cfg_(cfg), svr_(listener_settings{cfg.http_threads, static_cast<std::time_t>(cfg.keep_alive_seconds),
                                      static_cast<std::time_t>(cfg.io_timeout_seconds), cfg.max_body_bytes}) {
  auto opts = cfg.core().store;
  bridge_ = std::make_unique<bridge>(c, opts, std::chrono::milliseconds{cfg.reply_timeout_ms});
  auto* br = bridge_.get();
  auto* tr = &t;
  auth_ = std::make_unique<authenticator>(
    [br, tr](const std::string& hash) {
      return store_span(tr, "find_token").run([&] { return br->borrow_store()->find_token(hash); });
    },
    std::chrono::seconds{60},
    std::chrono::seconds{5});
  ctx_ = std::make_unique<route_context>(cfg, *bridge_, *auth_, m, t);

  auto* ctx = ctx_.get();
  svr_.set_pre_routing_handler([ctx](const httplib::Request& req, httplib::Response& res) {
    auto refusal = guard_request(req, ctx->cfg.max_body_bytes);
    if (refusal == error_code::none && ctx->shutting_down.load())
      refusal = error_code::unavailable;
    if (refusal == error_code::none)
      return httplib::Server::HandlerResponse::Unhandled;
    ctx->stats.rejected(refusal == error_code::unavailable ? "shutting_down" : "guard");
    // Connection: close on every refusal, so that an unread body can never become a request.
    send_error(res, refusal, lang_of_path(req.path), true);
    return httplib::Server::HandlerResponse::Handled;
  });
  svr_.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
    log_error("unhandled exception");
    send_error(res, error_code::internal, lang_of_path(req.path), true);
  });
  svr_.set_error_handler(httplib::Server::HandlerWithResponse{[](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty())
      return httplib::Server::HandlerResponse::Unhandled;
    auto l = lang_of_path(req.path);
    switch (res.status) {
      case 404: send_error(res, error_code::not_found, l); break;
      case 413: send_error(res, error_code::payload_too_large, l, true); break;
      case 411: send_error(res, error_code::length_required, l, true); break;
      case 503: send_error(res, error_code::unavailable, l); break;
      default:
        if (res.status >= 500) {
          send_error(res, error_code::internal, l, true);
        } else {
          auto status = res.status;
          send_error(res, error_code::invalid_request, l, true);
          res.status = status; // keep e.g. 405 or 414, with a JSON body
        }
    }
    return httplib::Server::HandlerResponse::Handled;
  }});
  register_routes(svr_, *ctx_);
}

http_server::~http_server() { stop(); }

int http_server::bind() { return svr_.bind(cfg_.bind, cfg_.port); }

void http_server::run() { svr_.listen_after_bind(); }

void http_server::stop() {
  ctx_->shutting_down = true;
  svr_.stop();
}

} // namespace booking
