#include "model/labels.hpp"

namespace booking {

const char* to_string(booking_status s) {
  switch (s) {
    case booking_status::booked: return "booked";
    case booking_status::cancelled: return "cancelled";
    case booking_status::leave: return "leave";
  }
  return "booked";
}

std::optional<booking_status> parse_status(const std::string& s) {
  if (s == "booked") return booking_status::booked;
  if (s == "cancelled") return booking_status::cancelled;
  if (s == "leave") return booking_status::leave;
  return std::nullopt;
}

const char* to_string(booking_state s) {
  switch (s) {
    case booking_state::upcoming: return "upcoming";
    case booking_state::completed: return "completed";
    case booking_state::cancelled: return "cancelled";
    case booking_state::leave: return "leave";
  }
  return "upcoming";
}

const char* to_string(canceller c) {
  switch (c) {
    case canceller::none: return "";
    case canceller::member: return "member";
    case canceller::admin: return "admin";
    case canceller::studio: return "studio";
  }
  return "";
}

canceller parse_canceller(const std::string& s) {
  if (s == "member") return canceller::member;
  if (s == "admin") return canceller::admin;
  if (s == "studio") return canceller::studio;
  return canceller::none;
}

const char* to_string(session_status s) {
  return s == session_status::cancelled ? "cancelled" : "scheduled";
}

std::optional<session_status> parse_session_status(const std::string& s) {
  if (s == "scheduled") return session_status::scheduled;
  if (s == "cancelled") return session_status::cancelled;
  return std::nullopt;
}

const char* to_string(waitlist_status s) {
  switch (s) {
    case waitlist_status::waiting: return "waiting";
    case waitlist_status::promoted: return "promoted";
    case waitlist_status::withdrawn: return "withdrawn";
    case waitlist_status::skipped: return "skipped";
    case waitlist_status::cancelled: return "cancelled";
  }
  return "waiting";
}

std::optional<waitlist_status> parse_waitlist_status(const std::string& s) {
  if (s == "waiting") return waitlist_status::waiting;
  if (s == "promoted") return waitlist_status::promoted;
  if (s == "withdrawn") return waitlist_status::withdrawn;
  if (s == "skipped") return waitlist_status::skipped;
  if (s == "cancelled") return waitlist_status::cancelled;
  return std::nullopt;
}

const char* to_string(waitlist_state s) { return s == waitlist_state::expired ? "expired" : "waiting"; }

const char* to_string(error_code e) {
  switch (e) {
    case error_code::none: return "none";
    case error_code::invalid_request: return "invalid_request";
    case error_code::unauthorized: return "unauthorized";
    case error_code::forbidden: return "forbidden";
    case error_code::not_found: return "not_found";
    case error_code::method_not_allowed: return "method_not_allowed";
    case error_code::session_full: return "session_full";
    case error_code::already_booked: return "already_booked";
    case error_code::session_closed: return "session_closed";
    case error_code::insufficient_credits: return "insufficient_credits";
    case error_code::insufficient_leave_quota: return "insufficient_leave_quota";
    case error_code::not_cancellable: return "not_cancellable";
    case error_code::already_waitlisted: return "already_waitlisted";
    case error_code::session_has_space: return "session_has_space";
    case error_code::waitlist_full: return "waitlist_full";
    case error_code::not_withdrawable: return "not_withdrawable";
    case error_code::capacity_below_booked: return "capacity_below_booked";
    case error_code::email_taken: return "email_taken";
    case error_code::length_required: return "length_required";
    case error_code::payload_too_large: return "payload_too_large";
    case error_code::idempotency_mismatch: return "idempotency_mismatch";
    case error_code::rate_limited: return "rate_limited";
    case error_code::overloaded: return "overloaded";
    case error_code::unavailable: return "unavailable";
    case error_code::internal: return "internal";
  }
  return "internal";
}

std::optional<lang> parse_lang(std::string_view s) {
  if (s == "en") return lang::en;
  if (s == "zh-tw") return lang::zh_tw;
  return std::nullopt;
}

const char* to_string(lang l) { return l == lang::en ? "en" : "zh-tw"; }

const char* state_label(booking_state s, lang l) {
  bool en = l == lang::en;
  switch (s) {
    case booking_state::upcoming: return en ? "Upcoming" : "即將到來";
    case booking_state::completed: return en ? "Completed" : "已完成";
    case booking_state::cancelled: return en ? "Cancelled" : "已取消";
    case booking_state::leave: return en ? "On leave" : "已請假";
  }
  return "";
}

const char* waitlist_state_label(waitlist_state s, lang l) {
  bool en = l == lang::en;
  return s == waitlist_state::expired ? (en ? "Expired" : "已逾期") : (en ? "Waiting" : "候補中");
}

const char* error_message(error_code e, lang l) {
  bool en = l == lang::en;
  switch (e) {
    case error_code::none: return en ? "OK" : "成功";
    case error_code::invalid_request: return en ? "The request is invalid." : "請求格式不正確。";
    case error_code::unauthorized: return en ? "A valid bearer token is required." : "需要有效的存取權杖。";
    case error_code::forbidden: return en ? "You are not allowed to do this." : "您無權執行此操作。";
    case error_code::not_found: return en ? "Not found." : "找不到資源。";
    case error_code::method_not_allowed:
      return en ? "This method is not allowed on this path." : "此路徑不支援這個請求方法。";
    case error_code::session_full: return en ? "This session is full." : "此課程已額滿。";
    case error_code::already_booked: return en ? "You have already booked this session." : "您已預約此課程。";
    case error_code::session_closed:
      return en ? "This session is closed: it has started, was cancelled, or its waitlist has closed."
                : "此課程已關閉：已開始、已取消，或候補已截止。";
    case error_code::insufficient_credits: return en ? "There are not enough credits for this." : "點數不足。";
    case error_code::insufficient_leave_quota: return en ? "You have no leave left." : "您的請假次數已用完。";
    case error_code::not_cancellable: return en ? "This booking cannot be changed any more." : "此預約已無法變更。";
    case error_code::already_waitlisted:
      return en ? "You are already on the waitlist for this session." : "您已在此課程的候補名單中。";
    case error_code::session_has_space:
      return en ? "This session still has seats: book it instead." : "此課程尚有名額，請直接預約。";
    case error_code::waitlist_full: return en ? "The waitlist for this session is full." : "此課程的候補名單已滿。";
    case error_code::not_withdrawable:
      return en ? "This waitlist entry is no longer waiting." : "此候補已不在等候中，無法取消。";
    case error_code::capacity_below_booked:
      return en ? "The capacity cannot be lower than the seats already booked." : "名額不可少於已預約的人數。";
    case error_code::email_taken: return en ? "This email address is already in use." : "此電子郵件地址已被使用。";
    case error_code::length_required: return en ? "Content-Length is required." : "需要 Content-Length 標頭。";
    case error_code::payload_too_large: return en ? "The request body is too large." : "請求內容過大。";
    case error_code::idempotency_mismatch:
      return en ? "This Idempotency-Key was used for a different request." : "此 Idempotency-Key 已用於不同的請求。";
    case error_code::rate_limited: return en ? "Too many requests; retry later." : "請求過於頻繁，請稍後再試。";
    case error_code::overloaded: return en ? "The server is busy; retry shortly." : "伺服器忙碌中，請稍後再試。";
    case error_code::unavailable: return en ? "The service is temporarily unavailable." : "服務暫時無法使用。";
    case error_code::internal: return en ? "An internal error occurred." : "發生內部錯誤。";
  }
  return "";
}

} // namespace booking
