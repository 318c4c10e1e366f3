#pragma once
// The bundled mock Invent API (SPEC §7, §8): a Beast HTTPS (or plain HTTP)
// server on loopback implementing the create-chat endpoint and the contacts
// listing, with fault knobs and a ledger of created chats at GET /_mock/stats.
// Tested only through the wire.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace invent_dispatch {

// Certificates made at run time for loopback TLS: a throwaway CA and a server
// certificate it signed.
struct generated_certificates {
    std::string ca_cert_pem;
    std::string server_cert_pem;
    std::string server_key_pem;
};
generated_certificates generate_certificates(const std::vector<std::string>& dns_names,
                                             const std::vector<std::string>& ip_addresses);

// One contact of the mock's listing (GET /orgs/{org}/contacts), as the
// listing shows it. An empty string is JSON null.
struct mock_channel {
    std::string id;
    std::string type;   // "custom", "internal", or an integration ("whatsapp_bot", ...)
    std::string name, username, email, phone, country, language;
};
struct mock_contact {
    std::string id;   // ct_000001, ct_000002, ... in listing order
    std::string name;
    bool blocked = false;
    bool unsubscribed = false;
    bool is_admin = false;
    std::vector<mock_channel> channels;
    std::vector<std::string> segment_ids;   // seg_spring, seg_vip, seg_newsletter
};

// The mock's `count` synthetic contacts: realistic names (some with a comma,
// a quote or letters beyond ASCII, a few without a name), about 3 % blocked,
// 6 % unsubscribed, 2 % admins, 7 % with no custom channel and 10 % with two,
// many with an internal or an integration channel beside the custom one.
// The same for the same seed, and contact i is the same whatever the count,
// so a test can work out what a listing must give.
std::vector<mock_contact> make_mock_contacts(std::size_t count, std::uint64_t seed);

// Every fault decision comes from one std::mt19937_64 seeded with `seed`, in
// this order per request: auth, path, rate limit, error_rates, body (or the
// listing's query), malformed, create (or idempotent replay; the listing
// creates nothing), drop_before_response, latency.
// drop_on_accept is drawn once per connection, before anything is read.
struct mock_config {
    std::string host = "127.0.0.1";   // must be a loopback address
    std::uint16_t port = 0;   // 0: a free port
    bool plain = false;   // HTTP instead of HTTPS
    std::string token = "demo-token";   // the bearer token it accepts
    std::optional<std::string> cert_out;   // write the generated CA (PEM) here
    std::chrono::milliseconds latency{0};   // --latency MS[,JITTER]
    std::chrono::milliseconds latency_jitter{0};
    std::vector<std::pair<int, double>> error_rates;   // --error-rate 500=0.05,503=0.02
    // --rate-limit R[/s]: 429 above R per token, over a sliding window of one
    // second (below 1/s: one request per 1/R seconds). The client is not told
    // unless rate_limit_headers says how.
    std::optional<double> rate_limit;
    enum class limit_headers { none, draft, x };
    // --rate-limit-headers draft|x|none: advertise the limit in force on every
    // create answer (draft: RateLimit-Policy `N;w=W` and RateLimit `limit=N,
    // remaining=n, reset=s` of the IETF draft-07; x: X-RateLimit-Limit,
    // -Remaining, -Reset in seconds).
    limit_headers rate_limit_headers = limit_headers::none;
    struct rate_limit_change {
        std::chrono::milliseconds after{0};   // counted from the first create request
        double per_second = 0;
    };
    std::optional<rate_limit_change> rate_limit_after;   // --rate-limit-after SECONDS:R
    std::string retry_after = "1";   // seconds or an HTTP date
    double drop_before_response = 0;   // read, create, close without answering
    double drop_on_accept = 0;   // close before reading
    unsigned max_requests_per_connection = 0;   // 0: unlimited; else the Nth gets Connection: close
    std::chrono::milliseconds idle_timeout{0};   // 0: never close idle connections
    double malformed_rate = 0;   // 200 with a broken body (no chat created)
    bool honour_idempotency = false;   // a repeated Idempotency-Key returns the first chat
    std::size_t contacts = 1000;   // --contacts N: the listing's contacts (make_mock_contacts)
    std::uint64_t seed = 1;
    // Serve these instead of generating a CA and a certificate for localhost,
    // 127.0.0.1 and ::1 (tests use one for another host name).
    std::optional<generated_certificates> certificates;
};

// Runs the mock on a thread of its own (demo, tests, benchmarks).
class mock_server {
public:
    explicit mock_server(mock_config config);   // binds and starts serving
    ~mock_server();   // stops and joins
    mock_server(const mock_server&) = delete;
    mock_server& operator=(const mock_server&) = delete;

    std::string url() const;   // "https://127.0.0.1:PORT"
    std::uint16_t port() const;
    const std::string& ca_pem() const;   // empty when plain
    // GET /_mock/stats, the same JSON (POST /_mock/reset clears it):
    //   {"requests":N,"created":N,"responses":{"200":n,"429":n},
    //    "dropped_before_response":n,"dropped_on_accept":n,"malformed":n,
    //    "idempotent_replays":n,"connections":n,"idle_closed":n,"resumed_sessions":n,"max_in_any_second":n,
    //    "create_span_us":n,"seconds":[[requests,created,refused],...],"listed_pages":{"<page>":n},
    //    "chats":{"<make_chat_key of the decoded ids>":{"count":n,"ambiguous":n,"ids":["chat_1"]}}}
    // requests/responses leave out /_mock/*; max_in_any_second counts create
    // requests (POST on the chats path, before any check) in the densest
    // sliding one-second window, create_span_us the time from the first to the
    // last of them, seconds those requests, the chats created and the 429s of
    // the rate limit in each second from the first of them; resumed_sessions counts TLS handshakes that
    // resumed a session; ambiguous = created, answer dropped; listed_pages
    // counts the listing's 200 answers by the page they carried.
    std::string stats_json() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// `invent-dispatch mock`: serves in the foreground, prints its URL, until
// SIGINT/SIGTERM. Returns 0, or 2 (message on stderr) when it cannot start.
int run_mock_command(const mock_config& config);

}   // namespace invent_dispatch
