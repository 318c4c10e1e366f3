// The response parser (Chat and error message) over any body, and the
// cleaner every server text goes through: whatever the server says, what we
// keep is valid UTF-8 without control characters, bounded, and never holds
// the token.
#include "fuzz_support.hpp"
#include "invent_dispatch/response_parser.hpp"
#include "invent_dispatch/server_text.hpp"

using namespace invent_dispatch;

namespace {

constexpr std::string_view token = "tok_fuzz_5e2b";

void check_clean(std::string_view text) {
    const auto cleaned = clean_server_text(text, token);
    FUZZ_CHECK(simdjson::validate_utf8(cleaned));
    FUZZ_CHECK(cleaned.size() <= max_server_message + 40);
    FUZZ_CHECK(cleaned.find(token) == std::string::npos);
    for (const char c : cleaned) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7F);
}

}   // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static response_parser parser;   // reused, as a connection reuses it
    std::string body(reinterpret_cast<const char*>(data), size);
    chat_info chat;
    if (!parser.parse_chat(padded(body), chat)) {
        FUZZ_CHECK(!chat.id.empty());
        for (auto* field : {&chat.id, &chat.status, &chat.link, &chat.state, &chat.created_at}) {
            FUZZ_CHECK(simdjson::validate_utf8(*field));
            const auto before = field->size();
            FUZZ_CHECK(cap_chat_field(*field) == (before > max_chat_field));
            FUZZ_CHECK(field->size() <= max_chat_field + 32 && simdjson::validate_utf8(*field));
        }
    }
    const auto message = parser.error_message(padded(body));
    FUZZ_CHECK(simdjson::validate_utf8(message));
    check_clean(message);
    check_clean(body);
    return 0;
}
