// --rate auto (issue 16) against the mock's server-side limit: the client is
// not told the limit and must find it, or is told it in headers.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "integration/mock_session.hpp"
#include "invent_dispatch/mock.hpp"

using namespace test_support;
using invent_dispatch::mock_config;

namespace {

// Every row created exactly once: in the journal and in the mock's ledger.
void check_all_created(const batch& b, int rows) {
    BOOST_TEST(b.result.exit_code == 0, b.result.err);
    BOOST_TEST(stat_of(b.stats, "created") == rows);
    const auto finals = final_by_key(b.journal);
    BOOST_TEST(finals.size() == static_cast<std::size_t>(rows));
    for (const auto& [key, r] : finals) BOOST_TEST(str(r, "outcome") == "created", key);
    for (const auto& [key, entry] : ledger_of(b.stats)) BOOST_TEST(entry.count == 1, key);
}

double summary_rate(const batch& b, const char* figure) {
    const auto summary = boost::json::parse(b.summary);
    return summary.at("rate").at(figure).to_number<double>();
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}   // namespace

BOOST_AUTO_TEST_SUITE(adaptive_rate)

BOOST_AUTO_TEST_CASE(auto_finds_a_hidden_limit_with_fewer_429s_than_a_fixed_rate_over_it) {
    // The server takes 20 a second and says nothing of it. Retry-After: 0, so
    // that a refused request is retried at the client's rate, not after a
    // pause: the fixed rate then keeps sending at 100/s all along.
    mock_config config;
    config.rate_limit = 20;
    config.retry_after = "0";
    const int rows = 100;
    const auto fixed = run_against(config, rows, {"--rate", "100", "--max-attempts", "100"});
    const auto adaptive =
        run_against(config, rows, {"--rate", "auto:100", "--max-attempts", "100", "--log-level", "debug"});
    check_all_created(fixed, rows);
    check_all_created(adaptive, rows);
    const auto fixed_429 = responses_with(fixed.stats, "429");
    const auto adaptive_429 = responses_with(adaptive.stats, "429");
    // Fewer by far: two runs at the same fixed rate differ by a few, not by half.
    BOOST_TEST(adaptive_429 * 2 < fixed_429, "auto met " << adaptive_429 << " 429s, --rate 100 met " << fixed_429);
    // The rate came down from MAX, and every change was logged.
    BOOST_TEST(summary_rate(adaptive, "min") < 100.0);
    BOOST_TEST(summary_rate(adaptive, "final") <= 100.0);
    BOOST_TEST(contains(adaptive.result.err, "rate 100.0/s -> 90.0/s: the server refused a request (429/503)"),
               adaptive.result.err.substr(0, 2000));
}

BOOST_AUTO_TEST_CASE(without_a_limit_auto_holds_max) {
    mock_config config;
    const int rows = 60;
    const auto b = run_against(config, rows, {"--rate", "auto"});   // 50/s off Invent
    check_all_created(b, rows);
    BOOST_TEST(summary_rate(b, "min") == 50.0);
    BOOST_TEST(summary_rate(b, "median") == 50.0);
    BOOST_TEST(summary_rate(b, "final") == 50.0);
}

BOOST_AUTO_TEST_CASE(advertised_limits_set_the_rate_at_once) {
    for (const auto style : {mock_config::limit_headers::draft, mock_config::limit_headers::x}) {
        BOOST_TEST_CONTEXT((style == mock_config::limit_headers::draft ? "draft" : "x")) {
            mock_config config;
            config.rate_limit = 20;
            config.rate_limit_headers = style;
            config.retry_after = "0";
            const int rows = 40;
            const auto b =
                run_against(config, rows, {"--rate", "auto:100", "--log-level", "debug", "--max-attempts", "100"});
            check_all_created(b, rows);
            // The first answer says 20 a second: the rate goes there less the
            // margin, without probing down to it.
            BOOST_TEST(contains(b.result.err, "rate 100.0/s -> 19.8/s: the server's rate-limit headers allow 20.0/s"),
                       b.result.err.substr(0, 2000));
            BOOST_TEST(summary_rate(b, "final") <= 19.8 + 1e-9);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
