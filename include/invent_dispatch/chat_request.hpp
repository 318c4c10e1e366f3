#pragma once
// What flows from the row builder to the dispatcher, and what comes back.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace invent_dispatch {

// One input row, ready to send. Built once per row; the body bytes are final.
struct chat_request {
    std::uint64_t line = 0;   // 1-based physical line where the row starts
    std::string org_id;   // raw ids, as the input holds them
    std::string contact_id;
    std::string channel_id;
    std::string key;   // encoded org/contact/channel (see encoding.hpp)
    std::string body;   // the JSON body
    std::string idempotency_key;   // hex digest, stable for this row
};

// The final (or write-ahead) state of a row, as the journal records it.
enum class outcome : std::uint8_t { created, failed, invalid, skipped, unknown, sending };

std::string_view to_string(outcome o) noexcept;
std::optional<outcome> parse_outcome(std::string_view s) noexcept;

// What the Chat object told us (SPEC §1: at least these fields).
struct chat_info {
    std::string id;
    std::string status;   // RUNNING, COMPLETED, ...
    std::string link;
    std::string state;   // state.state, e.g. OPEN
    std::string created_at;
};

// One finished row, as handed to the journal and the report. Views into
// storage the caller keeps alive for the duration of the call; an empty
// string_view, or an http_status of 0 (no answer), is written as JSON null.
struct row_result {
    std::uint64_t line = 0;
    std::string_view key;
    std::string_view org_id;
    std::string_view contact_id;
    std::string_view channel_id;
    outcome result = outcome::failed;
    int http_status = 0;
    std::string_view chat_id;
    std::string_view chat_status;
    std::string_view link;
    std::string_view chat_state;
    std::string_view created_at;
    unsigned attempts = 0;
    double latency_ms = 0;
    std::string_view error;
};

}   // namespace invent_dispatch
