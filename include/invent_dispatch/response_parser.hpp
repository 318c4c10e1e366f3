#pragma once
// Response parser: simdjson over a response body -> chat_info, or the server's
// own words for a failure. One per connection, so the simdjson parser and its
// buffers are reused for every response.
#include <boost/system/error_code.hpp>
#include <simdjson.h>
#include <string>

#include "invent_dispatch/chat_request.hpp"

namespace invent_dispatch {

class response_parser {
public:
    // body must stay readable SIMDJSON_PADDING bytes past its end.
    // dispatch_errc::not_a_chat unless the body is a JSON object with a
    // non-empty string "id"; then out holds id, status, link, state.state and
    // created_at (empty when absent).
    boost::system::error_code parse_chat(simdjson::padded_string_view body, chat_info& out);
    // After parse_chat failed: what was wrong with the body, in words.
    std::string_view chat_problem() const noexcept { return problem_; }

    // The message of an error body: "message", "error" (a string, or an object
    // with "message") or "detail". Empty when the body holds none of them.
    std::string error_message(simdjson::padded_string_view body);

private:
    simdjson::ondemand::parser parser_;
    std::string_view problem_;
};

// A view of s that simdjson may read past the end of (extends s's capacity
// when needed).
simdjson::padded_string_view padded(std::string& s);

}   // namespace invent_dispatch
