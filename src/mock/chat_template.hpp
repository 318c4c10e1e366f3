#pragma once
// The mock's Chat response: a ~4 KB document shaped like Invent's documented
// example (shared/invent-api/chat-response.example.json), rendered by
// appending precomputed literal pieces and escaped fields. No JSON DOM on the
// hot path: the mock serves benchmarks at tens of thousands of requests/s.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "invent_dispatch/json_text.hpp"

namespace invent_dispatch::mock_detail {

// What varies from one chat to the next; everything else is fixed text.
struct chat_fields {
    std::string_view id;
    std::string_view title;
    std::string_view assistant_id;
    std::string_view org_id;
    std::string_view contact_id;
    std::string_view channel_id;
    std::string_view timestamp;   // RFC 3339, used for created_at and updated_at
};

class chat_template {
public:
    chat_template();   // splits the template into pieces once
    void render(std::string& out, const chat_fields& fields) const;

private:
    enum class field : std::uint8_t { none, id, title, assistant_id, org_id, contact_id, channel_id, link, timestamp };
    struct piece {
        std::string_view literal;   // copied verbatim, then
        field value;   // this field, escaped
    };
    std::vector<piece> pieces_;
    std::size_t fixed_size_ = 0;
};

}   // namespace invent_dispatch::mock_detail
