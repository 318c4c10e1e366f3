// The journal's line formats. They run once per finished row on the
// dispatcher's thread (~50,000/s), so they append straight into the caller's
// buffer: no temporary strings, numbers through to_chars.
#include <charconv>
#include <cmath>

#include "invent_dispatch/journal_records.hpp"
#include "invent_dispatch/json_text.hpp"
#include "journal_detail.hpp"

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

// The last field of every record, and the line's end.
void append_at_and_end(std::string& out, std::string_view at) {
    out += ",\"at\":\"";
    out += at;
    out += "\"}\n";
}

}   // namespace

void append_sending_record(std::string& out, std::uint64_t line, std::string_view key, std::string_view at) {
    out += "{\"line\":";
    append_integer(out, line);
    append_field(out, ",\"key\":", key);
    out += ",\"outcome\":\"sending\"";
    append_at_and_end(out, at);
}

void append_result_record(std::string& out, const row_result& result, std::string_view at) {
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
    const auto [end, error] =
        std::to_chars(digits, digits + sizeof digits, result.latency_ms, std::chars_format::fixed, 1);
    // A latency is an answer's: none without one. JSON has no NaN or
    // infinity; and no latency is 10^40 ms.
    if (result.http_status != 0 && std::isfinite(result.latency_ms) && error == std::errc{})
        out.append(digits, end);
    else
        out += "null";
    append_field(out, ",\"error\":", result.error);
    append_at_and_end(out, at);
}

namespace detail {

std::string journal_header_line(std::string_view input_identity, const std::optional<input_fingerprint>& content) {
    std::string line = R"({"journal":"invent-dispatch","version":1,"input":)";
    append_json_string(line, input_identity);
    if (content) {
        line += ",\"input_size\":";
        append_integer(line, content->size);
        append_field(line, ",\"input_digest\":", content->digest);
    } else {
        line += R"(,"input_size":null,"input_digest":null)";
    }
    line += "}\n";
    return line;
}

void append_run_start_record(std::string& out, const run_start_event& event, std::string_view at) {
    out += event_prefix;
    out += "\"run_start\"";
    append_field(out, ",\"version\":", event.version);
    append_field(out, ",\"base_url\":", event.base_url);
    append_field(out, ",\"shard\":", event.shard);
    out += ",\"pid\":";
    append_integer(out, event.pid);
    append_at_and_end(out, at);
}

void append_run_end_record(std::string& out, int exit_code, std::string_view at) {
    out += event_prefix;
    out += "\"run_end\",\"exit_code\":";
    append_integer(out, exit_code);
    append_at_and_end(out, at);
}

void append_pause_record(std::string& out, int http_status, std::string_view until, std::string_view at) {
    out += event_prefix;
    out += "\"pause\",\"status\":";
    append_integer(out, http_status);
    out += ",\"until\":\"";
    out += until;
    out += '"';
    append_at_and_end(out, at);
}

}   // namespace detail
}   // namespace invent_dispatch
