#include <boost/test/unit_test.hpp>
#include <string>

#include "invent_dispatch/key_set.hpp"

using namespace invent_dispatch;

namespace {
std::string key_of(std::size_t i) {
    return "org_1/c_" + std::to_string(i) + "/ch_" + std::to_string(i % 7);
}
}   // namespace

BOOST_AUTO_TEST_SUITE(key_set)

BOOST_AUTO_TEST_CASE(insert_reports_new_keys_only) {
    invent_dispatch::key_set keys;
    BOOST_TEST(!keys.contains("a/b/c"));
    BOOST_TEST(keys.insert("a/b/c"));
    BOOST_TEST(!keys.insert("a/b/c"));
    BOOST_TEST(keys.contains("a/b/c"));
    BOOST_TEST(!keys.contains("a/b/d"));
    BOOST_TEST(keys.size() == 1u);
}

BOOST_AUTO_TEST_CASE(erase_removes_and_allows_reinsert) {
    invent_dispatch::key_set keys;
    keys.erase("never/was/here");
    BOOST_TEST(keys.size() == 0u);
    keys.insert("a/b/c");
    keys.insert("a/b/d");
    keys.erase("a/b/c");
    BOOST_TEST(!keys.contains("a/b/c"));
    BOOST_TEST(keys.contains("a/b/d"));   // probing goes past the erased slot
    BOOST_TEST(keys.size() == 1u);
    BOOST_TEST(keys.insert("a/b/c"));
    BOOST_TEST(keys.size() == 2u);
}

BOOST_AUTO_TEST_CASE(reserved_room_takes_every_key_without_a_rebuild) {
    invent_dispatch::key_set keys;
    keys.insert(key_of(0));
    keys.insert(key_of(1));
    keys.erase(key_of(1));
    keys.reserve(100000);
    const auto reserved = keys.capacity();
    BOOST_TEST(reserved * 7 >= 100000u * 10);   // under the 70% load limit
    BOOST_TEST(keys.contains(key_of(0)));   // what it held survives
    BOOST_TEST(!keys.contains(key_of(1)));
    for (std::size_t i = 1; i < 100000; ++i) BOOST_TEST_REQUIRE(keys.insert(key_of(i)));
    BOOST_TEST(keys.capacity() == reserved);
    BOOST_TEST(keys.size() == 100000u);
    keys.reserve(10);   // never shrinks
    BOOST_TEST(keys.capacity() == reserved);
}

BOOST_AUTO_TEST_CASE(a_million_keys_grow_without_false_negatives) {
    constexpr std::size_t count = 1'000'000;
    invent_dispatch::key_set keys;
    for (std::size_t i = 0; i < count; ++i) BOOST_REQUIRE(keys.insert(key_of(i)));
    BOOST_TEST(keys.size() == count);

    std::size_t missing = 0, false_positives = 0;
    for (std::size_t i = 0; i < count; ++i) {
        missing += !keys.contains(key_of(i));
        false_positives += keys.contains(key_of(count + i));
    }
    BOOST_TEST(missing == 0u);
    BOOST_TEST(false_positives == 0u);   // 64-bit hashes: expected 5e-8 here

    for (std::size_t i = 0; i < count; i += 2) keys.erase(key_of(i));
    BOOST_TEST(keys.size() == count / 2);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < count; ++i) wrong += keys.contains(key_of(i)) != (i % 2 == 1);
    BOOST_TEST(wrong == 0u);
}

BOOST_AUTO_TEST_CASE(churn_through_tombstones_stays_correct) {
    // Many erase/insert cycles over a small live set: tombstones must be
    // reclaimed rather than fill the table.
    invent_dispatch::key_set keys;
    for (std::size_t i = 0; i < 200'000; ++i) {
        BOOST_REQUIRE(keys.insert(key_of(i)));
        if (i >= 10) keys.erase(key_of(i - 10));
    }
    BOOST_TEST(keys.size() == 10u);
    for (std::size_t i = 200'000 - 10; i < 200'000; ++i) BOOST_TEST(keys.contains(key_of(i)));
    BOOST_TEST(!keys.contains(key_of(0)));
}

BOOST_AUTO_TEST_CASE(key_hash_is_splitmix64_over_fnv1a) {
    // The splitmix64 finalizer of stable_hash("") = 0xcbf29ce484222325.
    BOOST_TEST(key_hash("") == 0xf52a15e9a9b5e89bULL);
    BOOST_TEST(key_hash("a/b/c") != key_hash("a/b/d"));
}

BOOST_AUTO_TEST_SUITE_END()
