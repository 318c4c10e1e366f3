#include <boost/test/unit_test.hpp>

#include <simdjson.h>

#include "invent_dispatch/server_text.hpp"

using namespace invent_dispatch;

BOOST_AUTO_TEST_SUITE(server_text)

// Issue 12 finding 6: a 401 body that echoed the request's Authorization
// header put the token on stderr and in every journal line.
BOOST_AUTO_TEST_CASE(credentials_are_redacted) {
    const std::string token = "sk_live_4f9c2a";
    BOOST_TEST(clean_server_text("bad token sk_live_4f9c2a for org c", token) == "bad token [redacted] for org c");
    BOOST_TEST(clean_server_text("got Authorization: Bearer other.tok-en/9= here", token) ==
               "got Authorization: [redacted]");
    BOOST_TEST(clean_server_text(R"({"headers":{"authorization":"Basic dXNlcjpwdw=="},"x":1})", token) ==
               R"({"headers":{"authorization":"[redacted]"},"x":1})");
    BOOST_TEST(clean_server_text("expected bearer abc123, got none", "") == "expected bearer [redacted], got none");
    BOOST_TEST(clean_server_text("organisation not found", token) == "organisation not found");
    BOOST_TEST(clean_server_text("cannot connect", "t") == "cannot connect");   // a test's short token
}

// A newline or an escape sequence from the server must not forge a log line
// or drive the terminal; bytes that are not UTF-8 are shown, not passed on.
BOOST_AUTO_TEST_CASE(control_characters_and_bad_bytes_are_escaped) {
    BOOST_TEST(clean_server_text("no\n2026-11-29T00:00:00.000 [info] forged\x1b[2J", "") ==
               "no\\x0a2026-11-29T00:00:00.000 [info] forged\\x1b[2J");
    BOOST_TEST(clean_server_text("tab\there\x7f", "") == "tab\\x09here\\x7f");
    BOOST_TEST(clean_server_text("c1 \xC2\x9B"
                                 "31m",
                                 "") == "c1 \\xc2\\x9b31m");
    BOOST_TEST(clean_server_text("bad \xD0 byte \xE2\x82\xAC", "") == "bad \\xd0 byte \xE2\x82\xAC");
}

BOOST_AUTO_TEST_CASE(long_text_is_cut_on_a_character_boundary) {
    const std::string long_text = std::string(max_server_message - 1, 'x') + "\xE2\x82\xAC" + std::string(5000, 'y');
    const auto cleaned = clean_server_text(long_text, "");
    BOOST_TEST(cleaned ==
               std::string(max_server_message - 1, 'x') + "... [cut: " + std::to_string(long_text.size()) + " bytes]");
    BOOST_TEST(simdjson::validate_utf8(cleaned));
    const std::string exact(max_server_message, 'z');
    BOOST_TEST(clean_server_text(exact, "") == exact);
}

// Issue 12 finding 8: a 15 MiB Chat id made a 63 MB journal line per row.
BOOST_AUTO_TEST_CASE(chat_fields_are_capped_and_say_so) {
    std::string id = std::string(max_chat_field - 1, 'i') + "\xF0\x9F\x98\x80" + std::string(15 << 20, 'j');
    const auto size = id.size();
    BOOST_TEST(cap_chat_field(id));
    BOOST_TEST(id == std::string(max_chat_field - 1, 'i') + " [cut: " + std::to_string(size) + " bytes]");
    BOOST_TEST(id.capacity() < 2 * max_chat_field);
    std::string short_id = "chat_1";
    BOOST_TEST(!cap_chat_field(short_id));
    BOOST_TEST(short_id == "chat_1");
}

BOOST_AUTO_TEST_SUITE_END()
