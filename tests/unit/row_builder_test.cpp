#include <boost/test/unit_test.hpp>

#include <boost/json.hpp>

#include "invent_dispatch/row_builder.hpp"

using namespace invent_dispatch;

namespace {

using field_map = std::vector<std::pair<std::string, std::string>>;

// A record as a reader would hand it over; names and values are kept alive
// by the caller's strings.
struct record_of {
    explicit record_of(std::vector<std::pair<std::string, std::string>> fields, std::uint64_t line = 2)
        : storage(std::move(fields)) {
        record.line = line;
        record.names_generation = ++generation;
        for (const auto& [name, value] : storage) record.fields.push_back({name, value, value_kind::text});
    }
    std::vector<std::pair<std::string, std::string>> storage;
    input_record record;
    static inline std::uint64_t generation = 0;
};

built_row build(const row_defaults& defaults, const record_of& input, const field_map& map = {}) {
    row_builder builder(defaults, map);
    built_row row;
    builder.build(input.record, row);
    return row;
}

boost::json::object body_of(const built_row& row) {
    return boost::json::parse(row.request.body).as_object();
}

const record_of plain({{"contact_id", "c1"}, {"channel_id", "ch1"}, {"first_name", "Ana"}});

}   // namespace

BOOST_AUTO_TEST_SUITE(row_builder)

BOOST_AUTO_TEST_CASE(ids_key_and_defaults) {
    row_defaults defaults;
    defaults.assistant_id = "asst_1";
    const auto row = build(defaults, plain);
    BOOST_TEST_REQUIRE(row.valid, row.reason);
    BOOST_TEST(row.request.line == 2u);
    BOOST_TEST(row.request.org_id == "c");
    BOOST_TEST(row.request.contact_id == "c1");
    BOOST_TEST(row.request.channel_id == "ch1");
    BOOST_TEST(row.request.key == "c/c1/ch1");
    BOOST_TEST(row.request.body == R"({"assistant_id":"asst_1"})");
}

BOOST_AUTO_TEST_CASE(key_encodes_each_id) {
    const record_of input({{"org_id", "org_1"}, {"contact_id", "c/9"}, {"channel_id", "ch 3"}}, 7);
    const auto row = build({}, input);
    BOOST_TEST_REQUIRE(row.valid, row.reason);
    BOOST_TEST(row.request.org_id == "org_1");
    BOOST_TEST(row.request.key == "org_1/c%2F9/ch%203");
    BOOST_TEST(row.request.idempotency_key == "e4c2721f909dc81b3fb40c7ae155eaf8cf0a90151fcbfb6a31a17a24bc2b284e");
}

// sha256("c/c1/ch1\n2"): the same for the same row in every run.
BOOST_AUTO_TEST_CASE(idempotency_key_is_stable_per_row) {
    const auto first = build({}, plain);
    const auto again = build({}, plain);
    BOOST_TEST(first.request.idempotency_key == "2bad9eced60eb93c32b16584c60aaeed8ec43fdaa67abfc4ee1561dfe6aeb208");
    BOOST_TEST(again.request.idempotency_key == first.request.idempotency_key);
    const record_of other_line({{"contact_id", "c1"}, {"channel_id", "ch1"}}, 3);
    BOOST_TEST(build({}, other_line).request.idempotency_key != first.request.idempotency_key);
}

BOOST_AUTO_TEST_CASE(field_map_renames) {
    const record_of input({{"ContactID", "c1"}, {"Channel", "ch1"}, {"contact_id", "not me"}});
    row_defaults defaults;
    defaults.title = "{{contact_id}}";
    const auto row = build(defaults, input, {{"contact_id", "ContactID"}, {"channel_id", "Channel"}});
    BOOST_TEST_REQUIRE(row.valid, row.reason);
    BOOST_TEST(row.request.contact_id == "c1");
    BOOST_TEST(row.request.channel_id == "ch1");
    // Any column is a variable by its input name, mapped away or not.
    BOOST_TEST(body_of(row).at("title").as_string() == "not me");
}

BOOST_AUTO_TEST_CASE(bad_field_map_is_fatal) {
    BOOST_CHECK_THROW(invent_dispatch::row_builder({}, {{"contactid", "x"}}), input_error);
    BOOST_CHECK_THROW(invent_dispatch::row_builder({}, {{"contact_id", ""}}), input_error);
    BOOST_CHECK_THROW(invent_dispatch::row_builder({}, {{"title", "x"}, {"message", "x"}}), input_error);
}

BOOST_AUTO_TEST_CASE(bad_templates_are_fatal) {
    row_defaults unclosed;
    unclosed.title = "Hi {{first_name";
    BOOST_CHECK_THROW(invent_dispatch::row_builder(unclosed, {}), input_error);
    row_defaults empty_name;
    empty_name.message = "Hi {{ }}";
    BOOST_CHECK_THROW(invent_dispatch::row_builder(empty_name, {}), input_error);
}

BOOST_AUTO_TEST_CASE(templates_fill_defaults_from_any_column) {
    row_defaults defaults;
    defaults.title = "Offer for {{ first_name }} ({{contact_id}})";
    defaults.message = "Hi {{first_name}}! {single braces} stay";
    const auto row = build(defaults, plain);
    BOOST_TEST_REQUIRE(row.valid, row.reason);
    const auto body = body_of(row);
    BOOST_TEST(body.at("title").as_string() == "Offer for Ana (c1)");
    BOOST_TEST(body.at("message").at(0).at("text").as_string() == "Hi Ana! {single braces} stay");
    BOOST_TEST(body.at("message").at(0).at("type").as_string() == "text");
}

BOOST_AUTO_TEST_CASE(row_values_win_and_are_literal) {
    row_defaults defaults;
    defaults.org_id = "default_org";
    defaults.assistant_id = "default_assistant";
    defaults.title = "default {{first_name}}";
    const record_of input({{"contact_id", "c1"},
                           {"channel_id", "ch1"},
                           {"org_id", "o2"},
                           {"assistant_id", "a2"},
                           {"title", "{{first_name}} stays"},
                           {"message", "{{x}}"}});
    const auto row = build(defaults, input);
    BOOST_TEST_REQUIRE(row.valid, row.reason);
    BOOST_TEST(row.request.org_id == "o2");
    const auto body = body_of(row);
    BOOST_TEST(body.at("assistant_id").as_string() == "a2");
    BOOST_TEST(body.at("title").as_string() == "{{first_name}} stays");
    BOOST_TEST(body.at("message").at(0).at("text").as_string() == "{{x}}");
}

BOOST_AUTO_TEST_CASE(empty_row_value_takes_the_default) {
    row_defaults defaults;
    defaults.title = "default";
    const record_of input({{"contact_id", "c1"}, {"channel_id", "ch1"}, {"title", ""}, {"org_id", ""}});
    const auto row = build(defaults, input);
    BOOST_TEST(row.request.org_id == "c");
    BOOST_TEST(body_of(row).at("title").as_string() == "default");
}

BOOST_AUTO_TEST_CASE(unknown_variable_makes_the_row_invalid) {
    row_defaults defaults;
    defaults.message = "Hi {{nickname}}";
    const auto row = build(defaults, plain);
    BOOST_TEST(!row.valid);
    BOOST_TEST(row.reason == "unknown template variable {{nickname}} in the default message");
    BOOST_TEST(row.request.key == "c/c1/ch1");   // still named in the journal
}

BOOST_AUTO_TEST_CASE(title_length_counts_code_points) {
    std::string title;
    for (int i = 0; i < 256; ++i) title += "\xC3\xA9";   // é: 2 bytes, 1 character
    const record_of at_limit({{"contact_id", "c1"}, {"channel_id", "ch1"}, {"title", title}});
    BOOST_TEST(build({}, at_limit).valid);
    const record_of over({{"contact_id", "c1"}, {"channel_id", "ch1"}, {"title", title + "x"}});
    const auto row = build({}, over);
    BOOST_TEST(!row.valid);
    BOOST_TEST(row.reason == "title has 257 characters; at most 256 are allowed");

    row_defaults long_default;   // a rendered default is held to the same limit
    long_default.title = std::string(251, 'x') + "{{first_name}}{{first_name}}";
    BOOST_TEST(build(long_default, plain).reason == "title has 257 characters; at most 256 are allowed");
}

BOOST_AUTO_TEST_CASE(missing_empty_and_control_character_ids) {
    const auto reason = [](std::vector<std::pair<std::string, std::string>> fields) {
        const auto row = build({}, record_of(std::move(fields)));
        BOOST_TEST(!row.valid);
        return row.reason;
    };
    BOOST_TEST(reason({{"channel_id", "ch1"}}) == "contact_id is missing");
    BOOST_TEST(reason({{"contact_id", ""}, {"channel_id", "ch1"}}) == "contact_id is empty");
    BOOST_TEST(reason({{"contact_id", "c1"}}) == "channel_id is missing");
    BOOST_TEST(reason({{"contact_id", "c\x01"}, {"channel_id", "ch1"}}) == "contact_id contains a control character");
    BOOST_TEST(reason({{"contact_id", "c1"}, {"channel_id", "ch\n1"}}) == "channel_id contains a control character");
    BOOST_TEST(reason({{"contact_id", "c\x7F"}, {"channel_id", "ch1"}}) == "contact_id contains a control character");
    BOOST_TEST(reason({{"contact_id", "c\xC2\x85"}, {"channel_id", "ch1"}}) ==
               "contact_id contains a control character");
    BOOST_TEST(reason({{"contact_id", "c1"}, {"channel_id", "ch1"}, {"org_id", "o\t"}}) ==
               "org_id contains a control character");
    BOOST_TEST(reason({{"contact_id", "\xC3("}, {"channel_id", "ch1"}}) == "contact_id is not valid UTF-8");
}

// Issue 12 finding 1: "." and ".." are unreserved and stay unencoded, so a
// normalising hop would read POST /orgs/c/contacts/../channels/... as a
// different path. Such a row is invalid, and says why; ids that merely
// contain dots are fine.
BOOST_AUTO_TEST_CASE(dot_segment_ids_are_invalid) {
    const std::string why = " is \".\" or \"..\", which would change the request's path";
    const auto reason = [](std::vector<std::pair<std::string, std::string>> fields) {
        return build({}, record_of(std::move(fields))).reason;
    };
    BOOST_TEST(reason({{"contact_id", ".."}, {"channel_id", "ch1"}}) == "contact_id" + why);
    BOOST_TEST(reason({{"contact_id", "c1"}, {"channel_id", "."}}) == "channel_id" + why);
    BOOST_TEST(reason({{"contact_id", "c1"}, {"channel_id", "ch1"}, {"org_id", ".."}}) == "org_id" + why);
    const auto dotted = build({}, record_of({{"contact_id", "..."}, {"channel_id", ".a."}}));
    BOOST_TEST_REQUIRE(dotted.valid, dotted.reason);
    BOOST_TEST(dotted.request.key == "c/.../.a.");

    row_defaults dot_org;
    dot_org.org_id = "..";
    BOOST_CHECK_EXCEPTION(invent_dispatch::row_builder(dot_org, {}), input_error,
                          [&](const input_error& e) { return std::string(e.what()) == "the default org_id" + why; });
}

BOOST_AUTO_TEST_CASE(mapped_field_is_named_in_reasons) {
    const record_of input({{"ContactID", ""}, {"channel_id", "ch1"}});
    const auto row = build({}, input, {{"contact_id", "ContactID"}});
    BOOST_TEST(row.reason == "ContactID (contact_id) is empty");
}

BOOST_AUTO_TEST_CASE(invalid_utf8_in_a_used_value) {
    row_defaults defaults;
    defaults.title = "Hi {{first_name}}";
    const record_of bad_variable({{"contact_id", "c1"}, {"channel_id", "ch1"}, {"first_name", "\xFF"}});
    const auto row = build(defaults, bad_variable);
    BOOST_TEST(!row.valid);
    BOOST_TEST(row.reason == "title is not valid UTF-8");
    // An unused column may hold anything.
    BOOST_TEST(build({}, bad_variable).valid);
}

BOOST_AUTO_TEST_CASE(reader_problem_is_the_reason) {
    record_of input({{"contact_id", "c1"}, {"channel_id", "ch1"}});
    input.record.problem = "3 fields where the header has 2";
    const auto row = build({}, input);
    BOOST_TEST(!row.valid);
    BOOST_TEST(row.reason == "3 fields where the header has 2");
    BOOST_TEST(row.request.key == "c/c1/ch1");
}

BOOST_AUTO_TEST_CASE(known_field_must_be_string_or_number) {
    for (const auto kind : {value_kind::object, value_kind::array, value_kind::boolean, value_kind::null}) {
        record_of input({{"contact_id", "c1"}, {"channel_id", "ch1"}, {"title", ""}});
        input.record.fields[2].kind = kind;
        const auto row = build({}, input);
        BOOST_TEST(!row.valid);
        BOOST_TEST(row.reason == "title is " + std::string(to_string(kind)) + "; expected a string or a number");
    }
    record_of numeric({{"contact_id", "12345"}, {"channel_id", "7"}});
    numeric.record.fields[0].kind = numeric.record.fields[1].kind = value_kind::number;
    BOOST_TEST(build({}, numeric).request.key == "c/12345/7");
}

BOOST_AUTO_TEST_CASE(repeated_known_field_is_invalid) {
    const record_of input({{"contact_id", "c1"}, {"channel_id", "ch1"}, {"contact_id", "c2"}});
    BOOST_TEST(build({}, input).reason == "contact_id appears twice");
}

// Whatever the text holds, the body parses back to exactly that text.
BOOST_AUTO_TEST_CASE(body_escaping_round_trips) {
    const std::string nasty = "quote \" backslash \\ slash / tab \t newline \n nul " + std::string(1, '\0') +
                              " bell \x07 del \x7F emoji \xF0\x9F\x98\x80 accents \xC3\xA9\xE2\x82\xAC </script>";
    const record_of input({{"contact_id", "c1"},
                           {"channel_id", "ch1"},
                           {"assistant_id", nasty},
                           {"title", "t \" \\ \xF0\x9F\x8E\x89"},
                           {"message", nasty}});
    const auto row = build({}, input);
    BOOST_TEST_REQUIRE(row.valid, row.reason);
    BOOST_TEST(row.request.body.find('\n') == std::string::npos);
    const auto body = body_of(row);
    BOOST_TEST(body.at("assistant_id").as_string() == nasty);
    BOOST_TEST(body.at("title").as_string() == "t \" \\ \xF0\x9F\x8E\x89");
    BOOST_TEST(body.at("message").at(0).at("text").as_string() == nasty);
}

BOOST_AUTO_TEST_CASE(empty_values_are_omitted) {
    const record_of input(
        {{"contact_id", "c1"}, {"channel_id", "ch1"}, {"title", ""}, {"message", ""}, {"start_timestamp", "5"}});
    const auto row = build({}, input);
    BOOST_TEST_REQUIRE(row.valid, row.reason);
    BOOST_TEST(row.request.body == "{}");   // no text: no message, so no timestamps
}

BOOST_AUTO_TEST_CASE(timestamps_are_json_numbers_when_given) {
    const record_of both({{"contact_id", "c1"},
                          {"channel_id", "ch1"},
                          {"message", "hi"},
                          {"start_timestamp", "1700000000"},
                          {"end_timestamp", "1700000001.5"}});
    const auto row = build({}, both);
    BOOST_TEST_REQUIRE(row.valid, row.reason);
    BOOST_TEST(
        row.request.body ==
        R"({"message":[{"type":"text","text":"hi","start_timestamp":1700000000,"end_timestamp":1700000001.5}]})");
    const auto part = body_of(row).at("message").at(0).as_object();
    BOOST_TEST(part.at("start_timestamp").is_int64());

    const record_of start_only({{"contact_id", "c1"},
                                {"channel_id", "ch1"},
                                {"message", "hi"},
                                {"start_timestamp", "0"},
                                {"end_timestamp", ""}});
    BOOST_TEST(build({}, start_only).request.body ==
               R"({"message":[{"type":"text","text":"hi","start_timestamp":0}]})");

    for (const auto* bad : {"soon", "12abc", "1,5", " 1", "01", "1.", "+1"}) {
        const record_of input({{"contact_id", "c1"}, {"channel_id", "ch1"}, {"message", "hi"}, {"end_timestamp", bad}});
        const auto invalid = build({}, input);
        BOOST_TEST(!invalid.valid, bad);
        BOOST_TEST(invalid.reason == "end_timestamp is not a number");
    }
}

// A reused built_row carries nothing over from the row before.
BOOST_AUTO_TEST_CASE(reused_row_is_reset) {
    invent_dispatch::row_builder builder({}, {});
    built_row row;
    const record_of bad({{"contact_id", ""}, {"channel_id", "ch1"}});
    builder.build(bad.record, row);
    BOOST_TEST(!row.valid);
    const record_of good({{"contact_id", "c1"}, {"channel_id", "ch1"}, {"title", "t"}});
    builder.build(good.record, row);
    BOOST_TEST(row.valid);
    BOOST_TEST(row.reason == "");
    builder.build(bad.record, row);
    BOOST_TEST(!row.valid);
    BOOST_TEST(row.request.body == "");
    BOOST_TEST(row.request.key == "");
    BOOST_TEST(row.request.idempotency_key == "");
}

BOOST_AUTO_TEST_SUITE_END()
