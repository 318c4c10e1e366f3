#include <boost/test/unit_test.hpp>
BOOST_AUTO_TEST_SUITE(placeholder)
BOOST_AUTO_TEST_CASE(nothing) { BOOST_TEST(true); }
BOOST_AUTO_TEST_SUITE_END()
