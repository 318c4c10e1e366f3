// The contacts listing without sockets: targets, pages of JSON -> rows and
// left-out counts, the paging decision, CSV/JSONL text, and the listing loop
// over a scripted transport.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include <deque>
#include <fstream>
#include <sstream>

#include "invent_dispatch/contacts.hpp"
#include "invent_dispatch/errors.hpp"
#include "invent_dispatch/input.hpp"
#include "invent_dispatch/response_parser.hpp"
#include "support/files.hpp"
#include "support/io_context.hpp"

using namespace invent_dispatch;

namespace {

namespace net = boost::asio;

using test_support::read_file;

// A contact as the listing shows it; channels are given as JSON.
std::string contact_json(const std::string& id, const std::string& flags, const std::string& channels) {
    return fmt::format(R"({{"id":"{}","name":"Name {}",{}"channels":[{}],"segments":[]}})", id, id,
                       flags.empty() ? "" : flags + ",", channels);
}

std::string custom(const std::string& id, const std::string& email = "x@example.com") {
    return fmt::format(R"({{"id":"{}","type":"custom","name":"Chan {}","username":"u{}","email":"{}",)"
                       R"("phone":"+1 555","country":"US","language":"en","platform_data":{{}}}})",
                       id, id, id, email);
}

std::string channel_of_type(const std::string& id, const std::string& type) {
    return fmt::format(R"({{"id":"{}","type":"{}","name":null}})", id, type);
}

// n ordinary contacts c<first>..c<first+n-1>, one custom channel each.
std::string page_of(int first, int n) {
    std::string page = "[";
    for (int i = first; i < first + n; ++i) {
        if (i > first) page += ',';
        page += contact_json(fmt::format("c{}", i), "", custom(fmt::format("h{}", i)));
    }
    return page + "]";
}

struct page_result {
    std::string problem;
    std::vector<contact_row> rows;
};

page_result add(contact_listing& listing, std::string body, std::string_view count = {}) {
    page_result result;
    result.problem = listing.add_page(padded(body), count, result.rows);
    return result;
}

std::uint64_t left_out(const contact_listing& listing, left_out_reason reason) {
    return listing.counts().left_out[static_cast<std::size_t>(reason)];
}

}   // namespace

BOOST_AUTO_TEST_SUITE(contacts)

BOOST_AUTO_TEST_CASE(target_encodes_the_org_and_every_filter) {
    contacts_query query;
    query.segment_id = "seg/1";
    query.status = "SUBSCRIBED";
    query.name = "Ana Souza";
    query.email = "a+b@x.com";
    BOOST_TEST(contacts_target("/v1", "org 1", query, 3) ==
               "/v1/orgs/org%201/contacts?segment_id=seg%2F1&status=SUBSCRIBED&name=Ana%20Souza"
               "&email=a%2Bb%40x.com&page=3&take=100");
    BOOST_TEST(contacts_target("", "c", {}, 1) == "/orgs/c/contacts?page=1&take=100");
}

BOOST_AUTO_TEST_CASE(documented_example_gives_the_custom_channel_and_leaves_the_opted_out) {
    contact_listing listing(false, false);
    const auto page = add(listing, read_file(INVENT_SHARED_DIR "/invent-api/list-contacts.example.json"));
    BOOST_TEST_REQUIRE(page.problem.empty(), page.problem);
    BOOST_TEST_REQUIRE(page.rows.size() == 1u);   // the internal channel gives no row
    const auto& row = page.rows[0];
    BOOST_TEST(row.contact_id == "ct_01HZX3K9Q2");
    BOOST_TEST(row.channel_id == "ch_01HZX3KA11");
    BOOST_TEST(row.contact_name == "Ana Souza");
    BOOST_TEST(row.channel_name == "Ana Souza");
    BOOST_TEST(row.username == "ana.souza");
    BOOST_TEST(row.email == "ana@example.com");
    BOOST_TEST(row.phone == "+55 11 91234-5678");
    BOOST_TEST(row.country == "BR");
    BOOST_TEST(row.language == "pt");
    BOOST_TEST(listing.counts().contacts == 2u);
    BOOST_TEST(listing.counts().rows == 1u);
    BOOST_TEST(left_out(listing, left_out_reason::unsubscribed) == 1u);
    BOOST_TEST(listing.complete());   // shorter than a page
}

BOOST_AUTO_TEST_CASE(include_unsubscribed_brings_the_opted_out_back) {
    contact_listing listing(true, false);
    const auto page = add(listing, read_file(INVENT_SHARED_DIR "/invent-api/list-contacts.example.json"));
    BOOST_TEST_REQUIRE(page.rows.size() == 2u);
    BOOST_TEST(page.rows[1].contact_id == "ct_01HZX3M7T0");
    BOOST_TEST(page.rows[1].contact_name == "");   // null
    BOOST_TEST(page.rows[1].email == "opted.out@example.com");
    BOOST_TEST(left_out(listing, left_out_reason::unsubscribed) == 0u);
}

BOOST_AUTO_TEST_CASE(each_contact_is_left_out_for_one_reason_in_order) {
    const std::string body =
        "[" + contact_json("blocked_and_unsub", R"("blocked":true,"unsubscribed":true)", custom("h1")) + "," +
        contact_json("unsub", R"("unsubscribed":true,"is_admin":true)", custom("h2")) + "," +
        contact_json("admin", R"("is_admin":true)", custom("h3")) + "," +
        contact_json("no_custom", "", channel_of_type("i4", "internal") + "," + channel_of_type("w4", "whatsapp_bot")) +
        "," + contact_json("custom_without_id", "", R"({"type":"custom","id":null})") + "," +
        contact_json("two", R"("blocked":false,"unsubscribed":null)",
                     custom("h6a") + "," + channel_of_type("i6", "internal") + "," + custom("h6b")) +
        "]";
    contact_listing listing(false, false);
    const auto page = add(listing, body);
    BOOST_TEST_REQUIRE(page.problem.empty(), page.problem);
    BOOST_TEST_REQUIRE(page.rows.size() == 2u);
    BOOST_TEST(page.rows[0].channel_id == "h6a");
    BOOST_TEST(page.rows[1].channel_id == "h6b");
    BOOST_TEST(left_out(listing, left_out_reason::blocked) == 1u);
    BOOST_TEST(left_out(listing, left_out_reason::unsubscribed) == 1u);
    BOOST_TEST(left_out(listing, left_out_reason::admin) == 1u);
    BOOST_TEST(left_out(listing, left_out_reason::no_custom_channel) == 2u);
    BOOST_TEST(listing.counts().contacts == 6u);

    // --include-blocked alone: the blocked one is still unsubscribed.
    contact_listing blocked_too(false, true);
    add(blocked_too, body);
    BOOST_TEST(left_out(blocked_too, left_out_reason::blocked) == 0u);
    BOOST_TEST(left_out(blocked_too, left_out_reason::unsubscribed) == 2u);
    // Both: admins stay out, the unsubscribed one among them.
    contact_listing everyone(true, true);
    const auto all = add(everyone, body);
    BOOST_TEST(all.rows.size() == 3u);
    BOOST_TEST(all.rows[0].contact_id == "blocked_and_unsub");
    BOOST_TEST(left_out(everyone, left_out_reason::admin) == 2u);
}

// Whatever status filter was sent, the contact's own flags decide; and a
// flag that is not a plain false counts as set.
BOOST_AUTO_TEST_CASE(a_flag_that_is_not_false_leaves_the_contact_out) {
    contact_listing listing(false, false);
    const auto page = add(listing, "[" + contact_json("a", R"("unsubscribed":"yes")", custom("h1")) + "," +
                                       contact_json("b", R"("blocked":1)", custom("h2")) + "]");
    BOOST_TEST(page.problem.empty(), page.problem);
    BOOST_TEST(page.rows.empty());
    BOOST_TEST(left_out(listing, left_out_reason::unsubscribed) == 1u);
    BOOST_TEST(left_out(listing, left_out_reason::blocked) == 1u);
}

BOOST_AUTO_TEST_CASE(numeric_ids_are_their_decimal_text) {
    contact_listing listing(false, false);
    const auto page = add(listing, R"([{"id":42,"channels":[{"id":7,"type":"custom","phone":5551234}]}])");
    BOOST_TEST_REQUIRE(page.rows.size() == 1u);
    BOOST_TEST(page.rows[0].contact_id == "42");
    BOOST_TEST(page.rows[0].channel_id == "7");
    BOOST_TEST(page.rows[0].phone == "5551234");
}

// Pages shift while they are read: a contact seen again is neither counted
// nor written again, and a channel it gained in between is written.
BOOST_AUTO_TEST_CASE(rows_are_deduplicated_by_contact_and_channel_across_pages) {
    contact_listing listing(false, false);
    std::string first = page_of(1, 99);
    first.back() = ',';
    first += contact_json("shifted", "", custom("s1")) + "]";
    BOOST_TEST(add(listing, first, "300").rows.size() == 100u);
    std::string second = "[" + contact_json("shifted", "", custom("s1") + "," + custom("s2")) + ",";
    second += page_of(100, 99).substr(1);
    const auto page = add(listing, second, "300");
    BOOST_TEST_REQUIRE(page.problem.empty(), page.problem);
    BOOST_TEST(page.rows.size() == 100u);   // s2 and c100..c198
    BOOST_TEST(page.rows[0].channel_id == "s2");
    BOOST_TEST(listing.counts().repeated_rows == 1u);
    BOOST_TEST(listing.counts().contacts == 199u);
    BOOST_TEST(listing.counts().rows == 200u);
}

BOOST_AUTO_TEST_CASE(paging_stops_at_the_count_a_short_page_or_an_empty_one) {
    {
        contact_listing listing(false, false);
        BOOST_TEST(listing.next_page() == 1u);
        add(listing, page_of(1, 100), "200");
        BOOST_TEST(!listing.complete());
        BOOST_TEST(listing.next_page() == 2u);
        BOOST_TEST(*listing.expected_contacts() == 200u);
        add(listing, page_of(101, 100), "200");
        BOOST_TEST(listing.complete());   // full, but the count is reached
        BOOST_TEST(!listing.stalled());
    }
    {
        contact_listing listing(false, false);
        add(listing, page_of(1, 100));   // no pagination-count: go on
        BOOST_TEST(!listing.complete());
        add(listing, page_of(101, 100), "not a number");
        BOOST_TEST(!listing.complete());
        add(listing, "[]");
        BOOST_TEST(listing.complete());
        BOOST_TEST(listing.counts().pages == 3u);
    }
    {
        contact_listing listing(false, false);
        add(listing, page_of(1, 100), "1000");
        add(listing, page_of(101, 37), "1000");   // the count said more, but the page is short
        BOOST_TEST(listing.complete());
    }
}

BOOST_AUTO_TEST_CASE(a_server_that_ignores_the_page_stalls_the_listing) {
    contact_listing listing(false, false);
    add(listing, page_of(1, 100));
    BOOST_TEST(!listing.complete());
    const auto again = add(listing, page_of(1, 100));
    BOOST_TEST(again.rows.empty());
    BOOST_TEST(listing.stalled());
    BOOST_TEST(listing.complete());
}

BOOST_AUTO_TEST_CASE(a_broken_page_changes_nothing) {
    contact_listing listing(false, false);
    const std::string whole = page_of(1, 100);
    for (const std::string& body : {whole.substr(0, whole.size() / 2), std::string(R"({"data":[]})"),
                                    std::string(R"([{"id":"a","channels":[]},{"name":"no id"}])"),
                                    std::string(R"([{"id":""}])"), std::string(R"([1,2])")}) {
        const auto page = add(listing, body, "100");
        BOOST_TEST(!page.problem.empty(), body);
        BOOST_TEST(page.rows.empty());
    }
    BOOST_TEST(listing.next_page() == 1u);
    BOOST_TEST(listing.counts().pages == 0u);
    BOOST_TEST(listing.counts().contacts == 0u);
    BOOST_TEST(!listing.complete());
    BOOST_TEST(add(listing, whole, "100").rows.size() == 100u);
}

BOOST_AUTO_TEST_CASE(csv_quotes_what_needs_it_and_reads_back_through_the_input_stage) {
    const contact_row row{"c1", "ch,1", "Ana \"Nana\" Souza", "line\nbreak", "ana", "a@x", "+55 11 9", "BR", "pt"};
    std::string text;
    append_header(text, contacts_format::csv);
    append_row(text, row, contacts_format::csv);
    BOOST_TEST(text == "contact_id,channel_id,contact_name,channel_name,username,email,phone,country,language\n"
                       "c1,\"ch,1\",\"Ana \"\"Nana\"\" Souza\",\"line\nbreak\",ana,a@x,+55 11 9,BR,pt\n");

    const test_support::temp_dir dir;
    csv_reader reader(input_file(dir.write("rows.csv", text)), csv_options{});
    input_record record;
    BOOST_TEST_REQUIRE(reader.next(record));
    BOOST_TEST_REQUIRE(record.problem.empty(), record.problem);
    BOOST_TEST_REQUIRE(record.fields.size() == 9u);
    BOOST_TEST(record.fields[1].value == "ch,1");
    BOOST_TEST(record.fields[2].value == "Ana \"Nana\" Souza");
    BOOST_TEST(record.fields[3].value == "line\nbreak");
    BOOST_TEST(!reader.next(record));
}

BOOST_AUTO_TEST_CASE(jsonl_is_one_object_of_strings_per_row) {
    std::string text;
    append_header(text, contacts_format::jsonl);
    BOOST_TEST(text.empty());
    append_row(text, {"c1", "ch1", "Zo\xC3\xAB \"Z\"", "", "", "", "", "", ""}, contacts_format::jsonl);
    BOOST_TEST(text == R"({"contact_id":"c1","channel_id":"ch1","contact_name":"Zoë \"Z\"","channel_name":"",)"
                       R"("username":"","email":"","phone":"","country":"","language":""})"
                       "\n");
}

BOOST_AUTO_TEST_CASE(summary_names_every_count) {
    listing_counts counts;
    counts.pages = 11;
    counts.contacts = 1050;
    counts.rows = 900;
    counts.left_out = {1, 2, 3, 4};
    BOOST_TEST(describe(counts) == "11 pages read, 1050 contacts seen, 900 rows written; left out: 1 blocked, "
                                   "2 unsubscribed, 3 admins, 4 without a custom channel");
    counts.repeated_rows = 5;
    BOOST_TEST(describe(counts).ends_with("; 5 repeated rows skipped (pages shifted while read)"));
}

BOOST_AUTO_TEST_SUITE_END()

// The listing loop over a transport that replays scripted answers.
namespace {

struct scripted_reply {
    boost::system::error_code ec;
    int status = 200;
    std::string body;
    std::string retry_after;
    std::string pagination_count;
};

class scripted_transport final : public page_transport {
public:
    std::deque<scripted_reply> script;
    std::vector<std::string> targets;   // what was asked, in order
    unsigned opens = 0;

    net::awaitable<page_reply> open() override {
        ++opens;
        open_ = true;
        co_return page_reply{};
    }
    bool is_open() const noexcept override { return open_; }
    net::awaitable<page_reply> get(const std::string& target) override {
        targets.push_back(target);
        BOOST_REQUIRE_MESSAGE(!script.empty(), "unscripted request " << target);
        current_ = std::move(script.front());
        script.pop_front();
        page_reply reply;
        reply.ec = current_.ec;
        reply.stage = current_.ec ? attempt_stage::read : attempt_stage::answered;
        reply.status = current_.ec ? 0 : current_.status;
        reply.body = padded(current_.body);
        reply.retry_after = current_.retry_after;
        reply.pagination_count = current_.pagination_count;
        if (current_.ec) {
            reply.detail = "scripted failure";
            open_ = false;
        }
        co_return reply;
    }
    void close() noexcept override { open_ = false; }

private:
    scripted_reply current_;
    bool open_ = false;
};

struct listed {
    listing_result result;
    std::string text;
    listing_counts counts;
    std::uint64_t requests = 0;
};

listed list(scripted_transport& transport, unsigned max_attempts = 5, contacts_format format = contacts_format::csv) {
    retry_config retry;
    retry.max_attempts = max_attempts;
    retry.backoff_base = std::chrono::milliseconds(1);
    retry.backoff_cap = std::chrono::milliseconds(5);
    retry.retry_ambiguous = true;
    scheduler pacing(std::nullopt, retry, 7);
    listing_options options;
    options.base_path = "/v1";
    options.query.segment_id = "seg_spring";
    options.format = format;
    listed out;
    net::io_context io;   // before the lister: its timer is made on io and must go first
    contacts_lister lister(options, transport, pacing,
                           [&](std::string_view text, const contact_listing&) { out.text += text; });
    out.result = test_support::run_to_completion(io, lister.run());
    BOOST_TEST(test_support::no_work_left(io));
    out.counts = lister.counts();
    out.requests = lister.requests();
    return out;
}

std::string page_target(int page) {
    return fmt::format("/v1/orgs/c/contacts?segment_id=seg_spring&page={}&take=100", page);
}

std::size_t lines_of(const std::string& text) {
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}   // namespace

// The same suite, reopened: ctest runs each file's suite by its name.
BOOST_AUTO_TEST_SUITE(contacts)

BOOST_AUTO_TEST_CASE(pages_until_a_short_page_and_writes_each_row_once) {
    scripted_transport transport;
    transport.script = {{{}, 200, page_of(1, 100), "", "250"},
                        {{}, 200, page_of(101, 100), "", "250"},
                        {{}, 200, page_of(201, 50), "", "250"}};
    const auto out = list(transport);
    BOOST_TEST((out.result.how == listing_result::kind::complete), out.result.error);
    BOOST_TEST(transport.targets == (std::vector<std::string>{page_target(1), page_target(2), page_target(3)}));
    BOOST_TEST(lines_of(out.text) == 251u);   // header + 250 rows
    BOOST_TEST(out.text.starts_with("contact_id,channel_id,"));
    BOOST_TEST(out.counts.pages == 3u);
    BOOST_TEST(transport.opens == 1u);
}

// 503 with Retry-After, 429, an answer that never came and a page cut in
// half: each is asked again, and no page is skipped or written twice.
BOOST_AUTO_TEST_CASE(failed_attempts_ask_the_same_page_again) {
    scripted_transport transport;
    const std::string page2 = page_of(101, 100);
    transport.script = {{{}, 200, page_of(1, 100), "", "210"},
                        {{}, 503, R"({"message":"busy"})", "0", ""},
                        {{}, 429, R"({"message":"slow down"})", "0", ""},
                        {dispatch_errc::connection_lost, 0, "", "", ""},
                        {{}, 200, page2.substr(0, page2.size() / 2), "", "210"},
                        {{}, 200, page2, "", "210"},
                        {{}, 200, page_of(201, 10), "", "210"}};
    const auto out = list(transport);
    BOOST_TEST((out.result.how == listing_result::kind::complete), out.result.error);
    BOOST_TEST(transport.targets ==
               (std::vector<std::string>{page_target(1), page_target(2), page_target(2), page_target(2), page_target(2),
                                         page_target(2), page_target(3)}));
    BOOST_TEST(lines_of(out.text) == 211u);
    BOOST_TEST(out.counts.rows == 210u);
    BOOST_TEST(out.counts.repeated_rows == 0u);
    BOOST_TEST(out.requests == 7u);
    BOOST_TEST(transport.opens == 2u);   // again after the lost connection
}

BOOST_AUTO_TEST_CASE(a_refused_request_fails_the_listing_with_the_servers_words) {
    scripted_transport transport;
    transport.script = {{{}, 200, page_of(1, 100), "", "300"},
                        {{}, 400, R"({"message":"take must be at most 100"})", "", ""}};
    const auto out = list(transport);
    BOOST_TEST((out.result.how == listing_result::kind::failed));
    BOOST_TEST(out.result.error == "page 2 failed after 1 attempt: HTTP 400: take must be at most 100");
    BOOST_TEST(lines_of(out.text) == 101u);   // page 1 was handed over before
}

BOOST_AUTO_TEST_CASE(an_unauthorised_token_is_refused_at_once) {
    scripted_transport transport;
    transport.script = {{{}, 401, R"({"message":"missing or invalid bearer token"})", "", ""}};
    const auto out = list(transport);
    BOOST_TEST((out.result.how == listing_result::kind::refused));
    BOOST_TEST(transport.targets.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_page_that_keeps_failing_stops_after_max_attempts) {
    scripted_transport transport;
    for (int i = 0; i < 3; ++i) transport.script.push_back({{}, 500, "{}", "", ""});
    const auto out = list(transport, 3);
    BOOST_TEST((out.result.how == listing_result::kind::failed));
    BOOST_TEST(out.result.error == "page 1 failed after 3 attempts: HTTP 500");
    BOOST_TEST(transport.script.empty());
    BOOST_TEST(out.text.empty());   // not even the header: nothing was read
}

BOOST_AUTO_TEST_CASE(a_server_that_ignores_paging_fails_the_listing) {
    scripted_transport transport;
    transport.script = {{{}, 200, page_of(1, 100), "", ""}, {{}, 200, page_of(1, 100), "", ""}};
    const auto out = list(transport);
    BOOST_TEST((out.result.how == listing_result::kind::failed));
    BOOST_TEST(out.result.error.find("ignore paging") != std::string::npos, out.result.error);
}

BOOST_AUTO_TEST_CASE(jsonl_has_no_header) {
    scripted_transport transport;
    transport.script = {{{}, 200, page_of(1, 2), "", "2"}};
    const auto out = list(transport, 5, contacts_format::jsonl);
    BOOST_TEST(lines_of(out.text) == 2u);
    BOOST_TEST(out.text.starts_with(R"({"contact_id":"c1","channel_id":"h1",)"));
}

BOOST_AUTO_TEST_SUITE_END()
