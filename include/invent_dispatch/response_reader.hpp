#pragma once
// The HTTP/1.1 response reader (RFC 9112), sans-io: bytes in, and out one of
// need more, an interim (1xx) answer skipped, the final answer, or a framing
// verdict. It copies what it keeps (the head, the body), so the caller's
// buffer is free again when feed returns; it never reads past the end of one
// answer, so what the caller has left after a final answer is bytes the
// server sent beyond it (and the connection must not be reused).
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <simdjson.h>
#include <string>
#include <string_view>

#include "invent_dispatch/http_message.hpp"

namespace invent_dispatch {

inline constexpr std::size_t max_response_head_bytes = 64 * 1024;   // status line and headers
inline constexpr std::size_t max_response_body_bytes = 16 * 1024 * 1024;
inline constexpr std::size_t max_chunk_line_bytes = 8 * 1024;   // a chunk-size line, or the trailer section

enum class read_event {
    need_more,   // every byte given was taken; feed more
    interim,   // a 1xx answer was read and skipped; feed the rest
    final_answer,   // status(), headers(), body() hold the answer
    bad_framing,   // framing_error() says why; status() is kept when one was read
};

class response_reader {
public:
    response_reader();

    // Ready for the next answer. A HEAD request's answer has no body.
    void reset(bool head_request = false);

    // Takes bytes, at most up to the end of the current answer; `used` says
    // how many. After bad_framing or final_answer, call reset before more.
    read_event feed(std::string_view bytes, std::size_t& used);
    // The server closed the connection: completes a body that runs to the
    // close, or gives the framing verdict for an answer cut short. no_answer
    // when not one byte of the answer came.
    enum class eof_verdict { no_answer, final_answer, bad_framing };
    eof_verdict feed_eof();

    bool got_some() const noexcept { return got_some_; }
    int status() const noexcept { return status_; }   // 0 until a status line was read
    int interim_status() const noexcept { return interim_status_; }   // the last 1xx skipped
    const response_headers& headers() const noexcept { return headers_; }
    // Readable SIMDJSON_PADDING bytes past its end; valid until reset or feed.
    simdjson::padded_string_view body() noexcept;
    std::string_view framing_error() const noexcept { return framing_error_; }
    // With a final answer: whether the connection may carry another request
    // (HTTP version, Connection, and a body not delimited by the close).
    bool keep_alive() const noexcept { return keep_alive_; }
    // Keep-Alive: timeout=N, when the server said it.
    std::optional<std::chrono::seconds> keep_alive_timeout() const noexcept { return keep_alive_timeout_; }

private:
    enum class stage { head, fixed_body, chunk_line, chunk_data, chunk_data_end, trailer, body_to_close, done, failed };

    read_event fail(std::string_view why);
    read_event take_head(std::string_view bytes, std::size_t& used);
    read_event parse_head();
    bool parse_status_line(std::string_view line);
    bool parse_field(std::string_view line);
    read_event start_body();
    read_event take_chunk_line(std::string_view bytes, std::size_t& used);
    read_event take_trailer(std::string_view bytes, std::size_t& used);
    read_event finish();

    stage stage_ = stage::head;
    bool head_request_ = false;
    bool got_some_ = false;
    std::string head_;   // the current head, whole lines
    std::size_t line_start_ = 0;   // where head_'s last unfinished line begins
    std::string line_;   // a chunk-size line or the trailer section so far
    std::string body_;
    int status_ = 0;
    int interim_status_ = 0;
    int minor_version_ = 1;
    response_headers headers_;
    std::array<std::string, 9> joined_;   // per used header sent more than once (rare)
    std::optional<std::uint64_t> content_length_;
    bool chunked_ = false;
    bool transfer_encoding_ = false;
    bool connection_close_ = false;
    bool connection_keep_alive_ = false;
    bool keep_alive_ = false;
    std::optional<std::chrono::seconds> keep_alive_timeout_;
    std::uint64_t remaining_ = 0;   // of the fixed body or the current chunk
    std::string_view framing_error_;
};

}   // namespace invent_dispatch
