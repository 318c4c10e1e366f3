#pragma once
// What the mock answers, independent of the socket it came on: routing, the
// bearer check, body validation, the fault decisions and the ledger. The
// connection loop (mock_server.cpp) only reads, waits, writes and closes.
#include "chat_template.hpp"
#include "contact_directory.hpp"
#include "invent_dispatch/mock.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <simdjson.h>

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>

namespace invent_dispatch::mock_detail {

namespace http = boost::beast::http;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

struct reply {
    response message;
    bool drop = false;   // close without answering (drop_before_response)
    std::chrono::milliseconds delay{0};   // wait this long before answering (latency)
};

class mock_api {
public:
    explicit mock_api(const mock_config& config);

    // Counts a new connection; false means drop it now (drop_on_accept).
    bool accept_connection();
    void note_idle_close();   // a kept-alive connection closed by idle_timeout
    void note_resumed_session();
    // `json` is the connection's parser, reused; the body gains padding for it.
    reply handle(request& req, simdjson::dom::parser& json);
    // A request that could not be read as HTTP (too large, not HTTP at all).
    reply reject_unreadable(http::status status, std::string_view why);
    std::string stats_json() const;

private:
    using clock = std::chrono::steady_clock;

    struct ledger_entry {
        unsigned count = 0;
        unsigned ambiguous = 0;
        std::vector<std::string> ids;
    };
    // Enough to answer a replayed Idempotency-Key with the very same chat.
    struct stored_chat {
        std::string id, title, assistant_id, org_id, contact_id, channel_id, timestamp, key;
    };
    struct counters {
        std::uint64_t requests = 0;
        std::uint64_t created = 0;
        std::map<unsigned, std::uint64_t> responses;
        std::uint64_t dropped_before_response = 0;
        std::uint64_t dropped_on_accept = 0;
        std::uint64_t malformed = 0;
        std::uint64_t idempotent_replays = 0;
        std::uint64_t connections = 0;
        std::uint64_t idle_closed = 0;
        std::uint64_t resumed_sessions = 0;   // TLS handshakes that resumed a session
        std::size_t max_in_any_second = 0;
        std::optional<std::chrono::steady_clock::time_point> first_create;   // arrivals of create requests
        std::chrono::steady_clock::time_point last_create{};
        struct second {
            std::uint64_t requests = 0, created = 0, refused = 0;
        };
        std::vector<second> seconds;   // from first_create on
        std::map<std::size_t, std::uint64_t> listed_pages;   // the listing's 200 answers by page
    };
    // The rate limit in force: at most `quota` create requests accepted in
    // any `window`, and where the window stands after this request.
    struct limit_state {
        std::uint64_t quota = 0;
        clock::duration window{};
        std::uint64_t remaining = 0;
        clock::duration reset{};   // until the oldest accepted request leaves the window
    };

    reply handle_control(const request& req);
    // GET /orgs/{org}/contacts, after the bearer check; releases `lock`
    // before rendering the page.
    reply list_contacts(const request& req, const listing_request& listing, clock::time_point now,
                        std::unique_lock<std::mutex>& lock);
    // The rest expect mutex_ held.
    reply error(http::status status, std::string_view message);   // counted, delayed
    reply finish(reply r);   // counts and adds latency
    void note_arrival(clock::time_point now);
    counters::second& second_of(clock::time_point now);
    // Decides whether this create request is over the limit (refused);
    // nullopt when no limit is in force.
    std::optional<limit_state> apply_rate_limit(clock::time_point now, bool& refused);
    void advertise(reply& r, const std::optional<limit_state>& limit) const;
    std::optional<unsigned> draw_error_status();
    bool draw(double probability);
    void reset();

    const mock_config& config_;
    const std::string expected_authorization_;
    const chat_template chat_;
    const std::string malformed_body_;
    const contact_directory contacts_;

    mutable std::mutex mutex_;   // the io thread and stats_json() callers
    std::mt19937_64 random_;
    std::uint64_t next_chat_ = 1;   // survives reset: ids stay unique for the server's life
    counters counters_;
    std::unordered_map<std::string, ledger_entry> ledger_;
    std::unordered_map<std::string, stored_chat> by_idempotency_key_;
    std::deque<clock::time_point> arrivals_;   // create requests of the last second
    std::deque<clock::time_point> accepted_;   // create requests the rate limit let through, in its window
};

}   // namespace invent_dispatch::mock_detail
