// The response reader from byte strings alone: every answer is also fed one
// byte at a time, so each split point of it is tried.
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "invent_dispatch/response_reader.hpp"

using namespace invent_dispatch;

namespace {

// What reading one stream of bytes gave, the same whatever the pieces.
struct reading {
    read_event last = read_event::need_more;
    std::vector<int> interims;
    int status = 0;
    std::string body;
    std::string error;
    std::size_t leftover = 0;
    bool keep_alive = false;
    response_headers headers;   // views into read_with's reader: valid while it lives
    std::string retry_after;
    std::string ratelimit;
};

// Feeds `bytes` in pieces of `piece` bytes (0: all at once) until a final
// answer or a framing verdict; then the server's close when `eof`.
reading read_with(response_reader& reader, const std::string& bytes, std::size_t piece, bool eof = false) {
    reading r;
    reader.reset();
    std::size_t at = 0;
    bool ended = false;
    while (at < bytes.size() && !ended) {
        const std::size_t n = piece == 0 ? bytes.size() - at : std::min(piece, bytes.size() - at);
        std::string_view chunk(bytes.data() + at, n);
        while (!chunk.empty()) {
            std::size_t used = 0;
            r.last = reader.feed(chunk, used);
            BOOST_REQUIRE(used <= chunk.size());
            chunk.remove_prefix(used);
            at += used;
            if (r.last == read_event::interim) {
                r.interims.push_back(reader.interim_status());
                continue;
            }
            if (r.last != read_event::need_more) {
                ended = true;
                break;
            }
            BOOST_REQUIRE(chunk.empty());   // need_more takes everything
        }
    }
    if (!ended && eof) {
        const auto verdict = reader.feed_eof();
        r.last = verdict == response_reader::eof_verdict::final_answer  ? read_event::final_answer
                 : verdict == response_reader::eof_verdict::bad_framing ? read_event::bad_framing
                                                                        : read_event::need_more;
    }
    r.leftover = bytes.size() - at;
    r.status = reader.status();
    r.error = std::string(reader.framing_error());
    if (r.last == read_event::final_answer) {
        const auto body = reader.body();
        r.body.assign(body.data(), body.size());
        r.keep_alive = reader.keep_alive();
        r.headers = reader.headers();
        r.retry_after = std::string(r.headers.retry_after);
        r.ratelimit = std::string(r.headers.ratelimit);
    }
    return r;
}

// Reads `bytes` whole and one byte at a time; both must agree. The whole read.
reading read_all(const std::string& bytes, bool eof = false) {
    response_reader whole, bytewise;
    const auto a = read_with(whole, bytes, 0, eof);
    const auto b = read_with(bytewise, bytes, 1, eof);
    BOOST_TEST(static_cast<int>(a.last) == static_cast<int>(b.last));
    BOOST_TEST(a.interims == b.interims);
    BOOST_TEST(a.status == b.status);
    BOOST_TEST(a.body == b.body);
    BOOST_TEST(a.error == b.error);
    // Where a framing verdict stops reading depends on the pieces; an answer does not.
    if (a.last == read_event::final_answer) BOOST_TEST(a.leftover == b.leftover);
    BOOST_TEST(a.keep_alive == b.keep_alive);
    BOOST_TEST(a.retry_after == b.retry_after);
    return a;
}

const std::string chat = R"({"id":"chat_1","status":"RUNNING"})";

std::string answer(int status, const std::string& extra_headers, const std::string& body) {
    return "HTTP/1.1 " + std::to_string(status) + " X\r\n" + extra_headers +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

}   // namespace

BOOST_AUTO_TEST_SUITE(http_reader)

BOOST_AUTO_TEST_CASE(a_plain_answer_with_content_length) {
    const auto r = read_all(answer(201, "Content-Type: application/json\r\n", chat));
    BOOST_TEST(static_cast<int>(r.last) == static_cast<int>(read_event::final_answer));
    BOOST_TEST(r.status == 201);
    BOOST_TEST(r.body == chat);
    BOOST_TEST(r.keep_alive);
    BOOST_TEST(r.leftover == 0u);
    BOOST_TEST(r.interims.empty());
}

BOOST_AUTO_TEST_CASE(interim_answers_before_the_final_one_are_skipped) {
    for (int final_status : {200, 201}) {
        const auto r = read_all("HTTP/1.1 100 Continue\r\n\r\n" + answer(final_status, "", chat));
        BOOST_TEST(r.interims == std::vector<int>{100});
        BOOST_TEST(r.status == final_status);
        BOOST_TEST(r.body == chat);
        BOOST_TEST(r.leftover == 0u);
    }
    const auto several =
        read_all("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
                 "HTTP/1.1 102 Processing\r\n\r\n" +
                 answer(201, "", chat));
    BOOST_TEST((several.interims == std::vector<int>{100, 103, 102}));
    BOOST_TEST(several.status == 201);
    BOOST_TEST(several.body == chat);
}

BOOST_AUTO_TEST_CASE(switching_protocols_is_refused) {
    const auto r = read_all("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
    BOOST_TEST(static_cast<int>(r.last) == static_cast<int>(read_event::bad_framing));
    BOOST_TEST(r.status == 101);
}

BOOST_AUTO_TEST_CASE(chunked_with_extensions_and_trailers) {
    const std::string bytes = "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "5;name=value;other=\"q\"\r\n{\"id\"\r\n"
                              "1D \r\n:\"chat_1\",\"status\":\"RUNNING\"}\r\n"
                              "0\r\nX-Trailer: one\r\nX-Other: two\r\n\r\n";
    const auto r = read_all(bytes);
    BOOST_TEST(static_cast<int>(r.last) == static_cast<int>(read_event::final_answer));
    BOOST_TEST(r.body == chat);
    BOOST_TEST(r.keep_alive);
    BOOST_TEST(r.leftover == 0u);
}

BOOST_AUTO_TEST_CASE(chunk_size_line_and_trailer_are_capped) {
    const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    const auto endless_extension = read_all(head + "1;x=" + std::string(9000, 'a'));
    BOOST_TEST(static_cast<int>(endless_extension.last) == static_cast<int>(read_event::bad_framing));
    BOOST_TEST(endless_extension.error == "chunk-size line over 8 KiB");
    BOOST_TEST(endless_extension.status == 200);
    const auto endless_trailer = read_all(head + "0\r\nX: " + std::string(9000, 'a'));
    BOOST_TEST(endless_trailer.error == "trailer section over 8 KiB");
    const auto bad_size = read_all(head + "zz\r\n");
    BOOST_TEST(bad_size.error == "malformed chunk size");
    const auto long_chunk = read_all(head + "2\r\nabc\r\n0\r\n\r\n");
    BOOST_TEST(long_chunk.error == "chunk data longer than its size");
}

BOOST_AUTO_TEST_CASE(http_1_0_with_and_without_content_length) {
    const auto with_length = read_all("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}");
    BOOST_TEST(static_cast<int>(with_length.last) == static_cast<int>(read_event::final_answer));
    BOOST_TEST(with_length.body == "{}");
    BOOST_TEST(!with_length.keep_alive);   // 1.0 without Connection: keep-alive
    const auto kept = read_all("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n{}");
    BOOST_TEST(kept.keep_alive);
    // Without a length the body runs to the close.
    const auto to_close = read_all("HTTP/1.0 200 OK\r\n\r\n" + chat, true);
    BOOST_TEST(static_cast<int>(to_close.last) == static_cast<int>(read_event::final_answer));
    BOOST_TEST(to_close.body == chat);
    BOOST_TEST(!to_close.keep_alive);
    const auto not_closed = read_all("HTTP/1.0 200 OK\r\n\r\n" + chat, false);
    BOOST_TEST(static_cast<int>(not_closed.last) == static_cast<int>(read_event::need_more));
}

BOOST_AUTO_TEST_CASE(connection_close_ends_keep_alive) {
    BOOST_TEST(!read_all(answer(201, "Connection: close\r\n", chat)).keep_alive);
    BOOST_TEST(!read_all(answer(201, "Connection: Keep-Alive, Close\r\n", chat)).keep_alive);
}

BOOST_AUTO_TEST_CASE(bytes_after_a_complete_answer_are_left_over) {
    const auto stray_crlf = read_all(answer(200, "", chat) + "\r\n");
    BOOST_TEST(static_cast<int>(stray_crlf.last) == static_cast<int>(read_event::final_answer));
    BOOST_TEST(stray_crlf.body == chat);
    BOOST_TEST(stray_crlf.leftover == 2u);
    const auto two_answers = read_all(answer(201, "", chat) + answer(201, "", chat));
    BOOST_TEST(two_answers.leftover == answer(201, "", chat).size());
}

BOOST_AUTO_TEST_CASE(empty_lines_before_a_status_line_are_skipped) {
    const auto r = read_all("\r\n\n" + answer(201, "", chat));
    BOOST_TEST(r.status == 201);
    BOOST_TEST(r.body == chat);
}

BOOST_AUTO_TEST_CASE(large_heads_up_to_64_KiB_are_accepted) {
    for (std::size_t size : {9u * 1024, 60u * 1024}) {
        const auto r = read_all(answer(201, "X-Big: " + std::string(size, 'b') + "\r\n", chat));
        BOOST_TEST(static_cast<int>(r.last) == static_cast<int>(read_event::final_answer), size);
        BOOST_TEST(r.body == chat);
    }
    const auto refused = read_all(answer(201, "X-Big: " + std::string(70 * 1024, 'b') + "\r\n", chat));
    BOOST_TEST(static_cast<int>(refused.last) == static_cast<int>(read_event::bad_framing));
    BOOST_TEST(refused.error == "response head over 64 KiB");
    BOOST_TEST(refused.status == 201);   // the status line came: it is kept
}

BOOST_AUTO_TEST_CASE(bodies_over_16_MiB_are_refused) {
    const std::string body(17 * 1024 * 1024, 'x');
    response_reader reader;
    const auto announced = read_with(reader, answer(201, "", body), 0);
    BOOST_TEST(static_cast<int>(announced.last) == static_cast<int>(read_event::bad_framing));
    BOOST_TEST(announced.error == "response body over 16 MiB");
    BOOST_TEST(announced.status == 201);
    const auto chunked = read_with(reader,
                                   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   "1000000\r\n" +
                                       std::string(0x1000000, 'x') + "\r\n1\r\nx\r\n0\r\n\r\n",
                                   0);
    BOOST_TEST(chunked.error == "response body over 16 MiB");
    const auto to_close = read_with(reader, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body, 65536, true);
    BOOST_TEST(to_close.error == "response body over 16 MiB");
    const std::string exactly(16 * 1024 * 1024, 'x');
    BOOST_TEST(static_cast<int>(read_with(reader, answer(201, "", exactly), 0).last) ==
               static_cast<int>(read_event::final_answer));
}

BOOST_AUTO_TEST_CASE(ambiguous_framing_is_refused) {
    const auto both =
        read_all("HTTP/1.1 201 Created\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    BOOST_TEST(static_cast<int>(both.last) == static_cast<int>(read_event::bad_framing));
    BOOST_TEST(both.error == "both Content-Length and Transfer-Encoding");
    BOOST_TEST(both.status == 201);
    const auto two = read_all("HTTP/1.1 201 Created\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}");
    BOOST_TEST(two.error == "two Content-Length headers");
    const auto list = read_all("HTTP/1.1 201 Created\r\nContent-Length: 2, 2\r\n\r\n{}");
    BOOST_TEST(list.error == "malformed Content-Length");
    const auto negative = read_all("HTTP/1.1 201 Created\r\nContent-Length: -1\r\n\r\n{}");
    BOOST_TEST(negative.error == "malformed Content-Length");
}

BOOST_AUTO_TEST_CASE(garbage_is_refused_with_its_reason) {
    const auto not_http = read_all("SSH-2.0-OpenSSH_9.2\r\n\r\n");
    BOOST_TEST(static_cast<int>(not_http.last) == static_cast<int>(read_event::bad_framing));
    BOOST_TEST(not_http.error == "not an HTTP/1.x status line");
    BOOST_TEST(not_http.status == 0);
    BOOST_TEST(read_all("HTTP/2 200\r\n\r\n").error == "not an HTTP/1.x status line");
    BOOST_TEST(read_all("HTTP/1.1 2000 OK\r\n\r\n").error == "not an HTTP/1.x status line");
    BOOST_TEST(read_all("HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n").error == "malformed header line");
    BOOST_TEST(read_all("HTTP/1.1 200 OK\r\nName : value\r\n\r\n").error == "malformed header line");
    BOOST_TEST(read_all("HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n").error == "obsolete line folding in a header");
}

BOOST_AUTO_TEST_CASE(an_answer_cut_short_keeps_its_status) {
    response_reader reader;
    const auto cut = read_with(reader, "HTTP/1.1 201 Created\r\nContent-Length: 10\r\n\r\n{\"id\"", 0, true);
    BOOST_TEST(static_cast<int>(cut.last) == static_cast<int>(read_event::bad_framing));
    BOOST_TEST(cut.status == 201);
    BOOST_TEST(cut.error == "connection closed before the end of the response");
    reader.reset();
    BOOST_TEST(static_cast<int>(reader.feed_eof()) == static_cast<int>(response_reader::eof_verdict::no_answer));
    BOOST_TEST(!reader.got_some());
}

BOOST_AUTO_TEST_CASE(the_headers_we_use_are_exposed_raw) {
    const auto bytes = answer(429,
                              "retry-after: 7\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                              "Pagination-Count: 12\r\nRateLimit: limit=500, remaining=3\r\nRateLimit: reset=4\r\n"
                              "RateLimit-Policy: 500;w=60\r\nX-RateLimit-Limit: 500\r\nX-RateLimit-Remaining: 0\r\n"
                              "X-RateLimit-Reset:  1700000000 \r\nKeep-Alive: timeout=5, max=100\r\n",
                              "{}");
    const auto whole_and_bytewise = read_all(bytes);
    BOOST_TEST(whole_and_bytewise.retry_after == "7");
    BOOST_TEST(whole_and_bytewise.ratelimit == "limit=500, remaining=3, reset=4");
    response_reader live;   // the headers are views into it
    const auto r = read_with(live, bytes, 0);
    BOOST_TEST(r.headers.content_type == "application/json");
    BOOST_TEST(r.headers.content_encoding == "gzip");
    BOOST_TEST(r.headers.pagination_count == "12");
    BOOST_TEST(r.headers.ratelimit_policy == "500;w=60");
    BOOST_TEST(r.headers.x_ratelimit_limit == "500");
    BOOST_TEST(r.headers.x_ratelimit_remaining == "0");
    BOOST_TEST(r.headers.x_ratelimit_reset == "1700000000");
    response_reader reader;
    read_with(reader, answer(200, "Keep-Alive: timeout=5, max=100\r\n", "{}"), 0);
    BOOST_REQUIRE(reader.keep_alive_timeout().has_value());
    BOOST_TEST(reader.keep_alive_timeout()->count() == 5);
}

BOOST_AUTO_TEST_CASE(no_body_for_204_304_and_head) {
    const auto no_content = read_all("HTTP/1.1 204 No Content\r\n\r\n");
    BOOST_TEST(static_cast<int>(no_content.last) == static_cast<int>(read_event::final_answer));
    BOOST_TEST(no_content.body.empty());
    BOOST_TEST(no_content.keep_alive);
    response_reader reader;
    reader.reset(true);
    std::size_t used = 0;
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n";
    BOOST_TEST(static_cast<int>(reader.feed(head, used)) == static_cast<int>(read_event::final_answer));
    BOOST_TEST(used == head.size());
}

BOOST_AUTO_TEST_CASE(bare_lf_line_ends_are_accepted) {
    const auto r = read_all("HTTP/1.1 201 Created\nContent-Length: 2\n\n{}");
    BOOST_TEST(r.status == 201);
    BOOST_TEST(r.body == "{}");
}

BOOST_AUTO_TEST_SUITE_END()
