#include <boost/test/unit_test.hpp>

#include "invent_dispatch/encoding.hpp"

using namespace invent_dispatch;

BOOST_AUTO_TEST_SUITE(encoding)

BOOST_AUTO_TEST_CASE(unreserved_characters_are_kept) {
    BOOST_TEST(encode_segment("Az09-._~") == "Az09-._~");
}

BOOST_AUTO_TEST_CASE(path_changing_characters_become_one_segment) {
    BOOST_TEST(encode_segment("../x") == "..%2Fx");
    BOOST_TEST(encode_segment("a/b") == "a%2Fb");
    BOOST_TEST(encode_segment("?") == "%3F");
    BOOST_TEST(encode_segment("#") == "%23");
    BOOST_TEST(encode_segment("%") == "%25");
    BOOST_TEST(encode_segment("a b") == "a%20b");
    BOOST_TEST(encode_segment("é") == "%C3%A9");
    BOOST_TEST(encode_segment("\xF0\x9F\x98\x80") == "%F0%9F%98%80");
    BOOST_TEST(encode_segment("..") == "..");   // a dot segment alone stays literal: see key tests
}

BOOST_AUTO_TEST_CASE(key_and_path_keep_ids_apart) {
    const auto key = make_chat_key("org_1", "c/9", "ch 3");
    BOOST_TEST(key == "org_1/c%2F9/ch%203");
    std::string path;
    append_chat_path(path, key);
    BOOST_TEST(path == "/orgs/org_1/contacts/c%2F9/channels/ch%203/chats");
}

BOOST_AUTO_TEST_CASE(a_key_splits_back_into_its_raw_ids) {
    std::string org, contact, channel;
    BOOST_TEST(split_chat_key(make_chat_key("org/1", "c %9", "\xF0\x9F\x98\x80"), org, contact, channel));
    BOOST_TEST(org == "org/1");
    BOOST_TEST(contact == "c %9");
    BOOST_TEST(channel == "\xF0\x9F\x98\x80");
    BOOST_TEST(!split_chat_key("a/b", org, contact, channel));
    BOOST_TEST(!split_chat_key("a/b/c/d", org, contact, channel));
    BOOST_TEST(!split_chat_key("a/%zz/c", org, contact, channel));
}

BOOST_AUTO_TEST_CASE(stable_hash_is_fnv1a_64) {
    BOOST_TEST(stable_hash("") == 0xcbf29ce484222325ULL);
    BOOST_TEST(stable_hash("a") == 0xaf63dc4c8601ec8cULL);
}

BOOST_AUTO_TEST_SUITE_END()
