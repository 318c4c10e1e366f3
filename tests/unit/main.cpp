#define BOOST_TEST_MODULE invent_dispatch_unit
#include <boost/test/unit_test.hpp>
