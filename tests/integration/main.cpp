#define BOOST_TEST_MODULE invent_dispatch_integration
#include <boost/test/unit_test.hpp>
