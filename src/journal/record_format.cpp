// The journal's line formats. They run once per finished row on the
// dispatcher's thread (~50,000/s), so they append straight into the caller's
// buffer: no temporary strings, numbers through to_chars.
#include <charconv>
#include <cmath>

#include "invent_dispatch/journal.hpp"
#include "invent_dispatch/json_text.hpp"

namespace invent_dispatch {
namespace {

template <typename Integer>
void append_integer(std::string& out, Integer value) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    out.append(digits, end);
}

void append_field(std::string& out, std::string_view name_and_colon, std::string_view value) {
    out += name_and_colon;
    if (value.empty())
        out += "null";
    else
        append_json_string(out, value);
}

} // namespace

void append_sending_record(std::string& out, std::uint64_t line, std::string_view key) {
    out += "{\"line\":";
    append_integer(out, line);
    append_field(out, ",\"key\":", key);
    out += ",\"outcome\":\"sending\"}\n";
}

void append_result_record(std::string& out, const row_result& result) {
    out += "{\"line\":";
    append_integer(out, result.line);
    append_field(out, ",\"key\":", result.key);
    append_field(out, ",\"org_id\":", result.org_id);
    append_field(out, ",\"contact_id\":", result.contact_id);
    append_field(out, ",\"channel_id\":", result.channel_id);
    out += ",\"outcome\":\"";
    out += to_string(result.result);
    out += "\",\"http_status\":";
    if (result.http_status == 0)
        out += "null";   // no HTTP answer
    else
        append_integer(out, result.http_status);
    append_field(out, ",\"chat_id\":", result.chat_id);
    append_field(out, ",\"chat_status\":", result.chat_status);
    append_field(out, ",\"chat_state\":", result.chat_state);
    append_field(out, ",\"chat_created_at\":", result.created_at);
    append_field(out, ",\"link\":", result.link);
    out += ",\"attempts\":";
    append_integer(out, result.attempts);
    out += ",\"latency_ms\":";
    char digits[48];
    const auto [end, error] = std::to_chars(digits, digits + sizeof digits, result.latency_ms,
                                            std::chars_format::fixed, 1);
    if (std::isfinite(result.latency_ms) && error == std::errc{})
        out.append(digits, end);
    else
        out += "null";   // JSON has no NaN or infinity; and no latency is 10^40 ms
    append_field(out, ",\"error\":", result.error);
    out += "}\n";
}

} // namespace invent_dispatch
