#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "invent_dispatch/admission.hpp"

using namespace invent_dispatch;

BOOST_AUTO_TEST_SUITE(admission)

BOOST_AUTO_TEST_CASE(fresh_keys_are_sent_once) {
    resume_state resumed;
    invent_dispatch::admission gate({}, resumed);
    BOOST_TEST((gate.admit("o/c1/h") == admission_decision::send));
    BOOST_TEST((gate.admit("o/c2/h") == admission_decision::send));
    BOOST_TEST((gate.admit("o/c1/h") == admission_decision::duplicate));
}

BOOST_AUTO_TEST_CASE(allow_duplicates_sends_repeats) {
    resume_state resumed;
    invent_dispatch::admission gate({.allow_duplicates = true, .shard = {}}, resumed);
    BOOST_TEST((gate.admit("o/c1/h") == admission_decision::send));
    BOOST_TEST((gate.admit("o/c1/h") == admission_decision::send));
}

BOOST_AUTO_TEST_CASE(resumed_keys_are_not_sent_again) {
    resume_state resumed;
    resumed.created.insert("o/done/h");
    resumed.unknown.insert("o/maybe/h");
    invent_dispatch::admission gate({}, resumed);
    BOOST_TEST((gate.admit("o/done/h") == admission_decision::already_created));
    BOOST_TEST((gate.admit("o/maybe/h") == admission_decision::already_unknown));
    BOOST_TEST((gate.admit("o/done/h") == admission_decision::already_created));
}

BOOST_AUTO_TEST_CASE(retry_unknown_sends_unknown_keys_once) {
    resume_state resumed;
    resumed.created.insert("o/done/h");
    resumed.unknown.insert("o/maybe/h");
    invent_dispatch::admission gate({.retry_unknown = true, .shard = {}}, resumed);
    BOOST_TEST((gate.admit("o/maybe/h") == admission_decision::send));
    BOOST_TEST((gate.admit("o/maybe/h") == admission_decision::duplicate));
    // Created is never retried, whatever the flags.
    BOOST_TEST((gate.admit("o/done/h") == admission_decision::already_created));
}

BOOST_AUTO_TEST_CASE(a_resumed_key_still_counts_as_seen) {
    // With --retry-unknown, the unknown key's first row is sent; so a key
    // answered by the journal marks later rows of it as duplicates too.
    resume_state resumed;
    resumed.unknown.insert("o/maybe/h");
    invent_dispatch::admission gate({}, resumed);
    BOOST_TEST((gate.admit("o/maybe/h") == admission_decision::already_unknown));
    resumed.unknown.erase("o/maybe/h");
    BOOST_TEST((gate.admit("o/maybe/h") == admission_decision::duplicate));
}

BOOST_AUTO_TEST_CASE(shards_cover_every_key_exactly_once) {
    constexpr std::uint32_t shards = 3;
    constexpr std::size_t count = 10'000;
    std::vector<resume_state> states(shards);
    std::vector<invent_dispatch::admission> gates;
    for (std::uint32_t k = 0; k < shards; ++k)
        gates.emplace_back(admission_config{.shard = shard_spec{k, shards}}, states[k]);

    std::vector<std::size_t> per_shard(shards, 0);
    std::size_t not_exactly_once = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const auto key = "org_1/c_" + std::to_string(i) + "/ch_1";
        unsigned owners = 0;
        for (std::uint32_t k = 0; k < shards; ++k) {
            const auto decision = gates[k].admit(key);
            if (decision == admission_decision::send) {
                ++owners;
                ++per_shard[k];
                BOOST_TEST(in_shard(key, {k, shards}));
            } else {
                BOOST_TEST((decision == admission_decision::other_shard));
            }
        }
        not_exactly_once += owners != 1;
    }
    BOOST_TEST(not_exactly_once == 0u);
    for (std::uint32_t k = 0; k < shards; ++k) {
        BOOST_TEST_MESSAGE("shard " << k << "/" << shards << ": " << per_shard[k] << " keys");
        BOOST_TEST(per_shard[k] > 0u);
    }
}

BOOST_AUTO_TEST_CASE(the_shard_check_comes_first) {
    resume_state resumed;
    resumed.created.insert("o/done/h");
    const shard_spec other{in_shard("o/done/h", {0, 2}) ? 1u : 0u, 2};
    invent_dispatch::admission gate({.shard = other}, resumed);
    BOOST_TEST((gate.admit("o/done/h") == admission_decision::other_shard));
}

BOOST_AUTO_TEST_CASE(invalid_lines_are_split_by_line_number) {
    resume_state resumed;
    invent_dispatch::admission unsharded({}, resumed);
    BOOST_TEST(unsharded.owns_invalid_line(7));
    invent_dispatch::admission second_of_three({.shard = shard_spec{1, 3}}, resumed);
    BOOST_TEST(second_of_three.owns_invalid_line(7));
    BOOST_TEST(!second_of_three.owns_invalid_line(8));
    BOOST_TEST(!second_of_three.owns_invalid_line(9));
}

BOOST_AUTO_TEST_SUITE_END()
