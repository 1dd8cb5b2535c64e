// The `Idempotency-Key` header of writes (SPEC §4): validation and the request fingerprint.
#pragma once

#include <optional>

#include <httplib.h>

#include "model/store.hpp"

namespace booking {

struct idempotency_header {
  bool invalid = false;
  std::optional<idempotency_request> request; // absent when no key was sent
};

/// A key is 1..64 visible ASCII characters, sent once. "The same request" means the same
/// method, path without the `{lang}` prefix, acting user and body.
idempotency_header idempotency_of(const httplib::Request& req, id_type acting_user);

} // namespace booking
