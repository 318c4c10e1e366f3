#pragma once
// `invent-dispatch contacts` (SPEC §8): Invent's contacts listing paged into
// dispatch rows. The protocol part is sans-io: the request target, a page's
// JSON -> rows and what was left out, the paging decision, CSV and JSONL.
// The listing loop runs it over a page_transport with the scheduler's rate,
// retries and Retry-After pauses, the same as `run`.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <simdjson.h>

#include <array>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "invent_dispatch/dispatch_config.hpp"
#include "invent_dispatch/failure_classifier.hpp"
#include "invent_dispatch/response_parser.hpp"
#include "invent_dispatch/scheduler.hpp"

namespace invent_dispatch {

enum class contacts_format { csv, jsonl };

// `contacts` (SPEC §8). The API's filters; an empty one is not sent.
struct contacts_query {
    std::string segment_id;
    std::string status;   // ALL, SUBSCRIBED, UNSUBSCRIBED, BLOCKED, AI_REPLIES_DISABLED
    std::string name;
    std::string email;
};

struct contacts_config {
    contacts_query query;
    bool include_unsubscribed = false;
    bool include_blocked = false;
    std::optional<std::string> out_path;   // none: rows go to stdout
    contacts_format format = contacts_format::csv;
};

// Invent's largest page.
inline constexpr std::uint64_t contacts_page_size = 100;

// "{base_path}/orgs/{org}/contacts?segment_id=..&page=N&take=100": the org and
// every query value percent-encoded.
std::string contacts_target(std::string_view base_path, std::string_view org_id, const contacts_query& query,
                            std::uint64_t page);

// One dispatch row: a contact and one of its custom channels.
struct contact_row {
    std::string contact_id, channel_id, contact_name, channel_name, username, email, phone, country, language;
};

// Why a contact gave no row, in the order they are checked.
enum class left_out_reason : std::uint8_t { blocked, unsubscribed, admin, no_custom_channel };
inline constexpr std::size_t left_out_reason_count = 4;
std::string_view to_string(left_out_reason reason) noexcept;

struct listing_counts {
    std::uint64_t pages = 0;   // pages read
    std::uint64_t contacts = 0;   // distinct contacts seen
    std::uint64_t rows = 0;   // rows written
    std::uint64_t repeated_rows = 0;   // a (contact, channel) already written: the pages shifted
    std::array<std::uint64_t, left_out_reason_count> left_out{};   // by left_out_reason, once per contact
};

// What has been read so far and which page comes next. Rows are
// deduplicated by (contact, channel); a contact is counted, and left out,
// once however many pages show it. The contact's own flags decide, whatever
// status filter was sent.
class contact_listing {
public:
    contact_listing(bool include_unsubscribed, bool include_blocked);

    std::uint64_t next_page() const noexcept { return next_page_; }
    // The last page has been read: it was empty, short, or brought the
    // contacts read to pagination-count; or it was stalled().
    bool complete() const noexcept { return complete_; }
    // A full page brought no contact not read before: the server ignores
    // paging, and asking on would never end.
    bool stalled() const noexcept { return stalled_; }
    const listing_counts& counts() const noexcept { return counts_; }
    // pagination-count of the last page that had a readable one.
    std::optional<std::uint64_t> expected_contacts() const noexcept { return expected_; }

    // A 2xx answer for next_page(). Unless the body is not a JSON array of
    // contacts with ids (then the problem, and nothing changes), `rows`
    // gets the page's new rows and the counts and the paging move on.
    // `pagination_count` is the raw header value (empty when absent).
    std::string add_page(simdjson::padded_string_view body, std::string_view pagination_count,
                         std::vector<contact_row>& rows);

private:
    bool include_unsubscribed_;
    bool include_blocked_;
    std::uint64_t next_page_ = 1;
    std::uint64_t contacts_in_pages_ = 0;   // array elements read, repeats included
    bool complete_ = false;
    bool stalled_ = false;
    std::optional<std::uint64_t> expected_;
    listing_counts counts_;
    std::unordered_set<std::string> seen_contacts_;
    std::unordered_set<std::string> written_pairs_;
    simdjson::dom::parser parser_;
};

// The CSV header line (RFC 4180; nothing for JSONL), and one row: CSV fields
// quoted when they hold a comma, a quote or a line break; JSONL as an object
// of strings. Lines end with LF.
void append_header(std::string& out, contacts_format format);
void append_row(std::string& out, const contact_row& row, contacts_format format);

// The summary line for stderr: pages read, contacts seen, rows written, and
// each reason left out.
std::string describe(const listing_counts& counts);

// What the listing loop needs of a connection: the seam to the HTTP client.
struct page_reply {
    boost::system::error_code ec;   // dispatch_errc; clear when an HTTP answer came
    attempt_stage stage = attempt_stage::connect;   // how far it got
    int status = 0;
    simdjson::padded_string_view body;   // valid until the next call
    std::string_view retry_after;   // raw header values, empty when absent
    std::string_view pagination_count;
    std::string_view detail;   // with ec: what failed, in words
};

class page_transport {
public:
    virtual ~page_transport() = default;
    // Connects unless connected (called before the rate grant is taken).
    virtual boost::asio::awaitable<page_reply> open() = 0;
    virtual bool is_open() const noexcept = 0;
    virtual boost::asio::awaitable<page_reply> get(const std::string& target) = 0;
    virtual void close() noexcept = 0;
};

// How a listing ended.
struct listing_result {
    enum class kind { complete, failed, refused, stopped } how = kind::failed;
    std::string error;   // unless complete: what went wrong, in words
};

struct listing_options {
    std::string base_path;
    std::string org_id = "c";
    contacts_query query;
    bool include_unsubscribed = false;
    bool include_blocked = false;
    contacts_format format = contacts_format::csv;
};

// Pages through the listing on `transport`: each page waits for the
// scheduler's grant (rate and Retry-After pause), failed attempts are retried
// as the scheduler says (a GET is safe to repeat, so also after no answer or
// a broken body), and each page's rows go to `on_page` as text (the CSV
// header before the first) as soon as the page is read. Ends when the
// listing is complete, a page failed for good, or stop() was called.
class contacts_lister {
public:
    using page_sink = std::function<void(std::string_view rows_text, const contact_listing& listing)>;
    contacts_lister(listing_options options, page_transport& transport, scheduler& pacing, page_sink on_page);

    boost::asio::awaitable<listing_result> run();
    // No new request; the one under way is cut off. run() then ends `stopped`.
    void stop() noexcept;
    const listing_counts& counts() const noexcept { return listing_.counts(); }
    std::uint64_t requests() const noexcept { return requests_; }

private:
    boost::asio::awaitable<bool> wait_until(time_point when);
    std::string describe_failure(const page_reply& reply, std::string_view body_problem);

    listing_options options_;
    page_transport& transport_;
    scheduler& scheduler_;
    page_sink on_page_;
    contact_listing listing_;
    std::vector<contact_row> rows_;
    std::string text_;
    std::optional<boost::asio::steady_timer> timer_;
    response_parser errors_;   // the server's message in a refusal
    std::uint64_t requests_ = 0;
    bool stopping_ = false;
};

struct contacts_context {
    std::ostream* rows = nullptr;   // without --out (stdout)
    std::ostream* err = nullptr;   // progress and the summary (stderr)
    bool terminal = false;   // err is a terminal: a live progress line
};

// `invent-dispatch contacts`: the listing over the HTTP client, rows to
// --out (a temporary file renamed when complete) or to context.rows.
// Returns 0 complete, 1 a page failed for good (no --out file), 3 the token
// or organisation refused, 130/143 stopped by a signal.
int run_contacts(const dispatch_config& api, const contacts_config& contacts, const contacts_context& context);

}   // namespace invent_dispatch
