#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>

#include "invent_dispatch/errors.hpp"
#include "invent_dispatch/response_parser.hpp"
#include "support/files.hpp"

using namespace invent_dispatch;

namespace {

using test_support::read_file;

struct parsed {
    boost::system::error_code ec;
    chat_info chat;
};

parsed parse(std::string body) {
    response_parser parser;
    parsed result;
    result.ec = parser.parse_chat(padded(body), result.chat);
    return result;
}

}   // namespace

BOOST_AUTO_TEST_SUITE(response_parsing)

BOOST_AUTO_TEST_CASE(documented_example_is_a_chat) {
    const auto result = parse(read_file(INVENT_SHARED_DIR "/invent-api/chat-response.example.json"));
    BOOST_TEST(!result.ec);
    BOOST_TEST(result.chat.id == "<string>");
    BOOST_TEST(result.chat.status == "RUNNING");
    BOOST_TEST(result.chat.link == "<string>");
    BOOST_TEST(result.chat.state == "OPEN");   // state.state, not last_message.status
    BOOST_TEST(result.chat.created_at == "2023-11-07T05:31:56Z");
}

BOOST_AUTO_TEST_CASE(fields_in_any_order_and_escaped) {
    const auto result =
        parse(R"({"state":{"id":"s","state":"CLOSED"},"link":"https:\/\/x\/c?a=1","id":"chat_\u00e9"})");
    BOOST_TEST(!result.ec);
    BOOST_TEST(result.chat.id == "chat_\xC3\xA9");
    BOOST_TEST(result.chat.link == "https://x/c?a=1");
    BOOST_TEST(result.chat.state == "CLOSED");
    BOOST_TEST(result.chat.status.empty());
}

BOOST_AUTO_TEST_CASE(null_optional_fields_are_empty) {
    const auto result = parse(R"({"id":"chat_1","status":null,"link":null,"state":null})");
    BOOST_TEST(!result.ec);
    BOOST_TEST(result.chat.id == "chat_1");
    BOOST_TEST(result.chat.link.empty());
}

BOOST_AUTO_TEST_CASE(a_2xx_without_an_id_is_not_a_chat) {
    BOOST_TEST((parse(R"({"status":"RUNNING"})").ec == dispatch_errc::not_a_chat));
    BOOST_TEST((parse(R"({"id":""})").ec == dispatch_errc::not_a_chat));
    BOOST_TEST((parse(R"({"id":42})").ec == dispatch_errc::not_a_chat));
    BOOST_TEST((parse(R"([{"id":"chat_1"}])").ec == dispatch_errc::not_a_chat));
}

BOOST_AUTO_TEST_CASE(truncated_and_non_json_bodies_are_not_chats) {
    auto example = read_file(INVENT_SHARED_DIR "/invent-api/chat-response.example.json");
    for (const std::size_t cut : {1UL, 10UL, example.size() / 2, example.size() - 2})
        BOOST_TEST((parse(example.substr(0, cut)).ec == dispatch_errc::not_a_chat), "cut at " << cut);
    BOOST_TEST((parse("").ec == dispatch_errc::not_a_chat));
    BOOST_TEST((parse("<html>502 Bad Gateway</html>").ec == dispatch_errc::not_a_chat));
    BOOST_TEST((parse(R"({"id":"chat_1" "status":"RUNNING"})").ec == dispatch_errc::not_a_chat));
    BOOST_TEST((parse(R"({"id":tru})").ec == dispatch_errc::not_a_chat));
    BOOST_TEST((parse("{\"id\":\"chat_\xFF\"}").ec == dispatch_errc::not_a_chat));   // invalid UTF-8
}

// On-demand parsing skims values it does not read: their structure and UTF-8
// are checked, their literals are not. Such a body still names its chat.
BOOST_AUTO_TEST_CASE(unread_values_are_skimmed_not_validated) {
    const auto result = parse(R"({"id":"chat_1","title":tru,"status":"RUNNING"})");
    BOOST_TEST(!result.ec);
    BOOST_TEST(result.chat.status == "RUNNING");
}

BOOST_AUTO_TEST_CASE(error_messages_from_the_usual_shapes) {
    response_parser parser;
    auto message = [&](std::string body) { return parser.error_message(padded(body)); };
    BOOST_TEST(message(R"({"message":"contact not found"})") == "contact not found");
    BOOST_TEST(message(R"({"error":"bad token"})") == "bad token");
    BOOST_TEST(message(R"({"error":{"code":7,"message":"channel is not custom"}})") == "channel is not custom");
    BOOST_TEST(message(R"({"detail":"title too long"})") == "title too long");
    BOOST_TEST(message("Service Unavailable").empty());
    BOOST_TEST(message(R"({"ok":false})").empty());
}

BOOST_AUTO_TEST_SUITE_END()
