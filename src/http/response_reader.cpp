#include "invent_dispatch/response_reader.hpp"
#include "invent_dispatch/trim.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

namespace invent_dispatch {
namespace {

// The headers we use, by lower-case name, and where each one's value goes.
constexpr std::array<std::pair<std::string_view, std::string_view response_headers::*>, 9> used_headers{{
    {"retry-after", &response_headers::retry_after},
    {"content-type", &response_headers::content_type},
    {"content-encoding", &response_headers::content_encoding},
    {"pagination-count", &response_headers::pagination_count},
    {"ratelimit", &response_headers::ratelimit},
    {"ratelimit-policy", &response_headers::ratelimit_policy},
    {"x-ratelimit-limit", &response_headers::x_ratelimit_limit},
    {"x-ratelimit-remaining", &response_headers::x_ratelimit_remaining},
    {"x-ratelimit-reset", &response_headers::x_ratelimit_reset},
}};

char lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view text, std::string_view lower_case) noexcept {
    return text.size() == lower_case.size() &&
           std::equal(text.begin(), text.end(), lower_case.begin(), [](char a, char b) { return lower(a) == b; });
}

bool is_token_char(char c) noexcept {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A line without its LF and the CR before it (RFC 9112 §2.2: a bare LF ends
// a line too).
std::string_view without_eol(std::string_view line) noexcept {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

bool is_empty_line(std::string_view line) noexcept {
    return line == "\n" || line == "\r\n";
}

// The bytes up to and including the first LF, or all of them; `complete`
// says whether the LF was there.
std::string_view line_piece(std::string_view bytes, bool& complete) noexcept {
    const auto lf = bytes.find('\n');
    complete = lf != std::string_view::npos;
    return complete ? bytes.substr(0, lf + 1) : bytes;
}

// Calls f(token) for each comma-separated element of a list value, trimmed.
template <class F>
void for_each_element(std::string_view value, F f) {
    while (!value.empty()) {
        const auto comma = value.find(',');
        const auto element = trim(value.substr(0, comma));
        if (!element.empty()) f(element);
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
}

}   // namespace

response_reader::response_reader() {
    reset();
}

void response_reader::reset(bool head_request) {
    stage_ = stage::head;
    head_request_ = head_request;
    got_some_ = false;
    head_.clear();
    line_start_ = 0;
    line_.clear();
    body_.clear();
    status_ = 0;
    interim_status_ = 0;
    minor_version_ = 1;
    headers_ = {};
    for (auto& j : joined_) j.clear();
    content_length_.reset();
    chunked_ = false;
    transfer_encoding_ = false;
    connection_close_ = false;
    connection_keep_alive_ = false;
    keep_alive_ = false;
    keep_alive_timeout_.reset();
    remaining_ = 0;
    framing_error_ = {};
}

simdjson::padded_string_view response_reader::body() noexcept {
    if (body_.capacity() < body_.size() + simdjson::SIMDJSON_PADDING)
        body_.reserve(body_.size() + simdjson::SIMDJSON_PADDING);
    return simdjson::padded_string_view(body_.data(), body_.size(), body_.capacity());
}

read_event response_reader::fail(std::string_view why) {
    stage_ = stage::failed;
    framing_error_ = why;
    keep_alive_ = false;
    return read_event::bad_framing;
}

read_event response_reader::feed(std::string_view bytes, std::size_t& used) {
    used = 0;
    if (!bytes.empty()) got_some_ = true;
    while (used < bytes.size()) {
        const auto rest = bytes.substr(used);
        std::size_t took = 0;
        read_event event = read_event::need_more;
        switch (stage_) {
        case stage::head: event = take_head(rest, took); break;
        case stage::fixed_body:
        case stage::chunk_data: {
            took = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, rest.size()));
            body_.append(rest.data(), took);
            remaining_ -= took;
            if (remaining_ == 0)
                event =
                    stage_ == stage::fixed_body ? finish() : (stage_ = stage::chunk_data_end, read_event::need_more);
            break;
        }
        case stage::chunk_line: event = take_chunk_line(rest, took); break;
        case stage::chunk_data_end: {
            // The CRLF after a chunk's data (a bare LF accepted).
            const char c = rest.front();
            took = 1;
            if (c == '\r' && line_.empty())
                line_.push_back(c);   // (not = "\r": GCC 12 -O3 warns wrongly)
            else if (c == '\n') {
                line_.clear();
                stage_ = stage::chunk_line;
            } else
                event = fail("chunk data longer than its size");
            break;
        }
        case stage::trailer: event = take_trailer(rest, took); break;
        case stage::body_to_close:
            if (body_.size() + rest.size() > max_response_body_bytes) return fail("response body over 16 MiB");
            body_.append(rest);
            took = rest.size();
            break;
        case stage::done:
        case stage::failed: return stage_ == stage::done ? read_event::final_answer : read_event::bad_framing;
        }
        used += took;
        if (event != read_event::need_more) return event;
    }
    return read_event::need_more;
}

response_reader::eof_verdict response_reader::feed_eof() {
    if (stage_ == stage::done) return eof_verdict::final_answer;
    if (stage_ == stage::failed) return eof_verdict::bad_framing;
    if (stage_ == stage::body_to_close) {
        finish();
        return eof_verdict::final_answer;
    }
    if (!got_some_ || (stage_ == stage::head && trim(without_eol(head_)).empty() && interim_status_ == 0))
        return eof_verdict::no_answer;
    fail(status_ == 0 ? "connection closed in the middle of the response head"
                      : "connection closed before the end of the response");
    return eof_verdict::bad_framing;
}

read_event response_reader::take_head(std::string_view bytes, std::size_t& used) {
    used = 0;
    while (used < bytes.size()) {
        bool complete = false;
        const auto piece = line_piece(bytes.substr(used), complete);
        if (head_.size() + piece.size() > max_response_head_bytes) return fail("response head over 64 KiB");
        head_ += piece;
        used += piece.size();
        if (!complete) return read_event::need_more;
        const std::string_view line(head_.data() + line_start_, head_.size() - line_start_);
        if (is_empty_line(line)) {
            // Empty lines before the status line (a stray CRLF after the last
            // answer) are skipped, as RFC 9112 §2.2 asks of servers.
            if (line_start_ == 0) {
                head_.clear();
                continue;
            }
            return parse_head();
        }
        const bool status_line = line_start_ == 0;
        line_start_ = head_.size();
        if (status_line && !parse_status_line(without_eol(line))) return fail("not an HTTP/1.x status line");
    }
    return read_event::need_more;
}

bool response_reader::parse_status_line(std::string_view line) {
    // HTTP-version SP 3DIGIT SP [reason]
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ') return false;
    if (line[7] != '0' && line[7] != '1') return false;
    minor_version_ = line[7] - '0';
    int code = 0;
    const auto digits = line.substr(9, 3);
    if (std::from_chars(digits.data(), digits.data() + 3, code).ptr != digits.data() + 3 || code < 100 || code > 599)
        return false;
    if (line.size() > 12 && line[12] != ' ') return false;
    status_ = code;
    return true;
}

bool response_reader::parse_field(std::string_view line) {
    const auto colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) return false;
    const auto name = line.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), is_token_char)) return false;   // also: no space before the colon
    const auto value = trim(line.substr(colon + 1));
    if (value.find_first_of("\r\n") != std::string_view::npos) return false;   // a bare CR

    if (iequals(name, "content-length")) {
        std::uint64_t length = 0;
        const auto end = value.data() + value.size();
        if (content_length_ || value.empty() || std::from_chars(value.data(), end, length).ptr != end) {
            framing_error_ = content_length_ ? "two Content-Length headers" : "malformed Content-Length";
            return false;
        }
        content_length_ = length;
    } else if (iequals(name, "transfer-encoding")) {
        // The body is chunked when chunked is the last coding applied.
        transfer_encoding_ = true;
        chunked_ = false;
        for_each_element(value, [&](std::string_view coding) { chunked_ = iequals(coding, "chunked"); });
    } else if (iequals(name, "connection")) {
        for_each_element(value, [&](std::string_view option) {
            if (iequals(option, "close"))
                connection_close_ = true;
            else if (iequals(option, "keep-alive"))
                connection_keep_alive_ = true;
        });
    } else if (iequals(name, "keep-alive")) {
        // "timeout=5, max=100": the server closes idle connections after 5 s.
        for_each_element(value, [&](std::string_view parameter) {
            if (parameter.size() <= 8 || !iequals(parameter.substr(0, 8), "timeout=")) return;
            unsigned seconds = 0;
            const auto end = parameter.data() + parameter.size();
            if (std::from_chars(parameter.data() + 8, end, seconds).ptr == end)
                keep_alive_timeout_ = std::chrono::seconds(seconds);
        });
    } else {
        for (std::size_t i = 0; i < used_headers.size(); ++i) {
            if (!iequals(name, used_headers[i].first)) continue;
            auto& kept = headers_.*used_headers[i].second;
            if (kept.empty()) {
                kept = value;   // a view into head_, which no longer grows
            } else {
                auto& joined = joined_[i];
                if (joined.empty()) joined.assign(kept);
                joined += ", ";
                joined += value;
                kept = joined;
            }
            break;
        }
    }
    return true;
}

read_event response_reader::parse_head() {
    std::string_view rest(head_);
    rest.remove_prefix(std::min(rest.find('\n'), rest.size() - 1) + 1);   // the status line, parsed already
    while (!rest.empty()) {
        const auto eol = rest.find('\n');
        const auto line = without_eol(rest.substr(0, eol + 1));
        rest.remove_prefix(eol + 1);
        if (line.empty()) break;
        if (line.front() == ' ' || line.front() == '\t') return fail("obsolete line folding in a header");
        if (!parse_field(line)) return fail(framing_error_.empty() ? "malformed header line" : framing_error_);
    }
    if (status_ >= 100 && status_ < 200) {
        if (status_ == 101) return fail("101 Switching Protocols was not asked for");
        // RFC 9110 §15.2: skip it; the final answer follows.
        const int interim = status_;
        reset(head_request_);
        got_some_ = true;
        interim_status_ = interim;
        return read_event::interim;
    }
    return start_body();
}

read_event response_reader::start_body() {
    if (content_length_ && transfer_encoding_) return fail("both Content-Length and Transfer-Encoding");
    if (transfer_encoding_ && minor_version_ == 0) return fail("Transfer-Encoding in an HTTP/1.0 answer");
    keep_alive_ = minor_version_ == 1 ? !connection_close_ : connection_keep_alive_ && !connection_close_;
    if (head_request_ || status_ == 204 || status_ == 304) return finish();
    if (chunked_) {
        stage_ = stage::chunk_line;
        return read_event::need_more;
    }
    if (transfer_encoding_) {
        // A coding other than chunked last: the body runs to the close (RFC 9112 §6.3).
        keep_alive_ = false;
        stage_ = stage::body_to_close;
        return read_event::need_more;
    }
    if (content_length_) {
        if (*content_length_ > max_response_body_bytes) return fail("response body over 16 MiB");
        body_.reserve(static_cast<std::size_t>(*content_length_) + simdjson::SIMDJSON_PADDING);
        remaining_ = *content_length_;
        if (remaining_ == 0) return finish();
        stage_ = stage::fixed_body;
        return read_event::need_more;
    }
    keep_alive_ = false;
    stage_ = stage::body_to_close;
    return read_event::need_more;
}

read_event response_reader::take_chunk_line(std::string_view bytes, std::size_t& used) {
    bool complete = false;
    const auto piece = line_piece(bytes, complete);
    used = piece.size();
    if (line_.size() + piece.size() > max_chunk_line_bytes) return fail("chunk-size line over 8 KiB");
    line_ += piece;
    if (!complete) return read_event::need_more;
    // chunk-size [ BWS ; chunk-ext ] CRLF; the extensions are ignored.
    const auto line = without_eol(line_);
    std::uint64_t size = 0;
    const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), size, 16);
    if (ec != std::errc{} || end == line.data()) return fail("malformed chunk size");
    const auto after = trim(std::string_view(end, static_cast<std::size_t>(line.data() + line.size() - end)));
    if (!after.empty() && after.front() != ';') return fail("malformed chunk size");
    line_.clear();
    if (size == 0) {
        stage_ = stage::trailer;
        return read_event::need_more;
    }
    if (size > max_response_body_bytes - body_.size()) return fail("response body over 16 MiB");
    remaining_ = size;
    stage_ = stage::chunk_data;
    return read_event::need_more;
}

read_event response_reader::take_trailer(std::string_view bytes, std::size_t& used) {
    // Trailer fields are read and dropped, line by line, up to an empty line.
    used = 0;
    while (used < bytes.size()) {
        bool complete = false;
        const auto piece = line_piece(bytes.substr(used), complete);
        if (line_.size() + piece.size() > max_chunk_line_bytes) return fail("trailer section over 8 KiB");
        const auto last_lf = line_.rfind('\n');
        const auto line_begin = last_lf == std::string::npos ? 0 : last_lf + 1;
        line_ += piece;
        used += piece.size();
        if (!complete) return read_event::need_more;
        if (is_empty_line(std::string_view(line_).substr(line_begin))) return finish();
    }
    return read_event::need_more;
}

read_event response_reader::finish() {
    stage_ = stage::done;
    return read_event::final_answer;
}

}   // namespace invent_dispatch
