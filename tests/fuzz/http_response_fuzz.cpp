// The HTTP response reader as the client drives it: the input's first byte
// seeds the sizes of the pieces the rest is fed in, as reads of a socket
// would cut it. Whatever the bytes and the cuts, the reader takes no more
// than it is given, takes everything when it asks for more, stays within its
// limits, and reaches the same verdict as when fed everything at once.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "invent_dispatch/response_reader.hpp"

using namespace invent_dispatch;

namespace {

struct verdict {
    read_event last = read_event::need_more;
    int status = 0;
    int interims = 0;
    std::size_t consumed = 0;
    std::string body;
    std::string_view error;
    bool keep_alive = false;
};

void check(bool ok) {
    if (!ok) std::abort();
}

verdict read_in_pieces(response_reader& reader, std::string_view bytes, std::uint32_t seed) {
    verdict v;
    reader.reset();
    while (v.consumed < bytes.size()) {
        seed = seed * 1103515245u + 12345u;
        const std::size_t piece = seed == 0 ? bytes.size() : 1 + (seed >> 16) % 64;
        std::string_view chunk = bytes.substr(v.consumed, piece);
        std::size_t used = 0;
        v.last = reader.feed(chunk, used);
        check(used <= chunk.size());
        v.consumed += used;
        if (v.last == read_event::need_more) check(used == chunk.size());
        if (v.last == read_event::interim) {
            ++v.interims;
            check(reader.interim_status() >= 100 && reader.interim_status() < 200);
            continue;
        }
        if (v.last != read_event::need_more) break;
    }
    if (v.last == read_event::need_more) {
        const auto eof = reader.feed_eof();
        if (eof == response_reader::eof_verdict::final_answer)
            v.last = read_event::final_answer;
        else if (eof == response_reader::eof_verdict::bad_framing)
            v.last = read_event::bad_framing;
    }
    v.status = reader.status();
    v.error = reader.framing_error();
    if (v.last == read_event::bad_framing) check(!v.error.empty());
    if (v.last == read_event::final_answer) {
        check(v.status >= 200 && v.status <= 599);
        const auto body = reader.body();
        check(body.size() <= max_response_body_bytes);
        v.body.assign(body.data(), body.size());
        v.keep_alive = reader.keep_alive();
    }
    return v;
}

}   // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint32_t seed = data[0] | 1u;
    const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    static response_reader pieces, whole;
    const auto a = read_in_pieces(pieces, bytes, seed);
    const auto b = read_in_pieces(whole, bytes, 0);
    check(a.last == b.last);
    check(a.status == b.status);
    check(a.interims == b.interims);
    // Where a framing verdict stops reading depends on the pieces; an answer does not.
    if (a.last != read_event::bad_framing) check(a.consumed == b.consumed);
    check(a.body == b.body);
    check(a.error == b.error);
    check(a.keep_alive == b.keep_alive);
    return 0;
}
