#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string_view>

#include "invent_dispatch/rate_limit_headers.hpp"

using namespace invent_dispatch;

namespace {

const auto wall_now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));

std::optional<advertised_limit> draft(std::string_view current, std::string_view policy = {}) {
    rate_limit_fields f;
    f.ratelimit = current;
    f.ratelimit_policy = policy;
    return parse_rate_limit_fields(f, wall_now);
}

std::optional<advertised_limit> x(std::string_view limit, std::string_view remaining = {},
                                  std::string_view reset = {}) {
    rate_limit_fields f;
    f.x_limit = limit;
    f.x_remaining = remaining;
    f.x_reset = reset;
    return parse_rate_limit_fields(f, wall_now);
}

double value(const std::optional<double>& v) {
    return v ? *v : -1;
}

}   // namespace

BOOST_AUTO_TEST_SUITE(rate_limit_headers)

BOOST_AUTO_TEST_CASE(draft_07_policy_and_dictionary) {
    const auto a = draft("limit=100, remaining=50, reset=5", "100;w=60");
    BOOST_REQUIRE(a);
    BOOST_TEST((a->from == advertised_limit::style::draft));
    BOOST_TEST(value(a->limit) == 100);
    BOOST_TEST(value(a->window) == 60);
    BOOST_TEST(value(a->remaining) == 50);
    BOOST_TEST(value(a->reset) == 5);
}

BOOST_AUTO_TEST_CASE(draft_08_items_with_parameters) {
    // Two policies: the tighter one per second (1000 a day) is the one that binds.
    const auto a = draft(R"("default";r=50;t=30)", R"("burst";q=100;w=60, "daily";q=1000;w=86400)");
    BOOST_REQUIRE(a);
    BOOST_TEST(value(a->limit) == 1000);
    BOOST_TEST(value(a->window) == 86400);
    BOOST_TEST(value(a->remaining) == 50);
    BOOST_TEST(value(a->reset) == 30);

    // Several current items: the one with the fewest requests left.
    const auto b = draft(R"("a";r=9;t=1,"b";r=2;t=40)", R"("a";q=10;w=1)");
    BOOST_REQUIRE(b);
    BOOST_TEST(value(b->remaining) == 2);
    BOOST_TEST(value(b->reset) == 40);
    // Unknown parameters, a quota unit, a partition key and a string with an escape are walked over.
    const auto c = draft({}, R"("p\"1";q=65535;qu="requests";w=10;pk=:c2Rm:;flag)");
    BOOST_REQUIRE(c);
    BOOST_TEST(value(c->limit) == 65535);
    BOOST_TEST(value(c->window) == 10);
}

BOOST_AUTO_TEST_CASE(draft_dictionary_with_semicolons_and_decimals) {
    // What Close sends live, with decimal seconds.
    const auto a = draft("limit=100; remaining=7; reset=1.5");
    BOOST_REQUIRE(a);
    BOOST_TEST(value(a->limit) == 100);
    BOOST_TEST(value(a->remaining) == 7);
    BOOST_TEST(value(a->reset) == 1.5);
    BOOST_TEST(!a->window);
}

BOOST_AUTO_TEST_CASE(x_headers_with_delay_or_unix_time_reset) {
    const auto a = x("300", "12", "1");
    BOOST_REQUIRE(a);
    BOOST_TEST((a->from == advertised_limit::style::x));
    BOOST_TEST(value(a->limit) == 300);
    BOOST_TEST(value(a->remaining) == 12);
    BOOST_TEST(value(a->reset) == 1);
    BOOST_TEST(!a->window);

    BOOST_TEST(value(x("5000", "4999", "1700000060")->reset) == 60);   // GitHub's Unix time
    BOOST_TEST(value(x("5000", "4999", "1600000000")->reset) == 0);   // already past
    BOOST_TEST(value(x(" 10 ", "", "")->limit) == 10);
}

BOOST_AUTO_TEST_CASE(the_draft_takes_precedence_over_x) {
    rate_limit_fields f;
    f.ratelimit_policy = "50;w=1";
    f.x_limit = "300";
    f.x_reset = "1";
    const auto a = parse_rate_limit_fields(f, wall_now);
    BOOST_REQUIRE(a);
    BOOST_TEST((a->from == advertised_limit::style::draft));
    BOOST_TEST(value(a->limit) == 50);

    // A draft field with no limit in it yields to an X- limit.
    f.ratelimit_policy = {};
    f.ratelimit = R"("default";r=3;t=1)";
    const auto b = parse_rate_limit_fields(f, wall_now);
    BOOST_REQUIRE(b);
    BOOST_TEST((b->from == advertised_limit::style::x));
    BOOST_TEST(value(b->limit) == 300);
}

BOOST_AUTO_TEST_CASE(malformed_draft_fields_are_ignored_whole) {
    for (const std::string_view policy :
         {"-5;w=1", "100;w=", "100;w=-1", "100,", ",100", "100;;w=1", "abc=1", R"("open;q=1;w=1)", "100;W=1", "1e3;w=1",
          "0x10;w=1", "100 w=1", "(1 2);w=1", "1..5;w=1", ".5;w=1", "5.;w=1"}) {
        const auto a = draft({}, policy);
        BOOST_TEST(!a, "'" << policy << "'");
    }
    for (const std::string_view current :
         {"limit=100, remaining=", "limit=abc", "limit=100,,reset=1", "limit=-1", R"("d";r=5;t=)", "limit=1e2"}) {
        const auto a = draft(current);
        BOOST_TEST(!a, "'" << current << "'");
    }
}

BOOST_AUTO_TEST_CASE(a_quota_without_a_usable_window_gives_the_limit_alone) {
    const auto a = draft({}, "100;w=0");
    BOOST_REQUIRE(a);
    BOOST_TEST(value(a->limit) == 100);
    BOOST_TEST(!a->window);
    // A zero quota allows nothing and says nothing about a rate.
    BOOST_TEST(!draft({}, "0;w=1"));
}

BOOST_AUTO_TEST_CASE(malformed_x_values_are_ignored) {
    for (const std::string_view bad :
         {"", "abc", "12abc", "-1", "+1", "1e3", "0x10", "nan", "inf", "1,000", "0", "1 2",
          "1000000000000000000000000000000000000000000000000000000000000000000000000000"
          "0000000000000000000000000000000000000000000000000000000000000000000000000000"
          "0000000000000000000000000000000000000000000000000000000000000000000000000000"
          "0000000000000000000000000000000000000000000000000000000000000000000000000000"
          "0000000000000000000000000000000000000000000000000000000000000000000000000000"}) {
        BOOST_TEST(!x(bad), "'" << bad << "'");
    }
    // A bad limit leaves what else is good.
    const auto a = x("many", "3", "1");
    BOOST_REQUIRE(a);
    BOOST_TEST(!a->limit);
    BOOST_TEST(value(a->remaining) == 3);
}

BOOST_AUTO_TEST_CASE(no_fields_is_nothing) {
    BOOST_TEST(!parse_rate_limit_fields({}, wall_now));
}

BOOST_AUTO_TEST_SUITE_END()
