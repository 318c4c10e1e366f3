#pragma once
// Running coroutines in a test: spawned so that what escapes them fails the
// test, and an io_context fixture that fails a test leaving work behind (an
// armed timer, a coroutine still waiting), which a real run would hang on.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <exception>
#include <optional>
#include <utility>

namespace test_support {

// Spawns `coroutine` (an awaitable, or a function returning one) on io; an
// exception escaping it is rethrown from io.run().
template <class Coroutine>
void spawn(boost::asio::io_context& io, Coroutine coroutine) {
    boost::asio::co_spawn(io, std::move(coroutine), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
}

// Runs `task` on io until io has nothing left to do, and returns its value.
template <class T>
T run_to_completion(boost::asio::io_context& io, boost::asio::awaitable<T> task) {
    std::optional<T> value;
    std::exception_ptr failure;
    boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T v) {
        failure = e;
        if (!e) value.emplace(std::move(v));
    });
    io.restart();
    io.run();
    if (failure) std::rethrow_exception(failure);
    BOOST_REQUIRE_MESSAGE(value, "the coroutine did not finish");
    return std::move(*value);
}

// Asio's poll() stops an io_context that has run out of work, so after it
// stopped() says whether anything is left: a ready handler, a timer, a
// socket operation, or a coroutine waiting on one of them.
inline bool no_work_left(boost::asio::io_context& io) {
    io.restart();
    io.poll();
    return io.stopped();
}

// A test's io_context, checked when the test ends (a ready handler left
// behind runs then, after the test's locals are gone: the test is wrong either
// way, and fails). A run() after an earlier run() ran out of work returns at
// once unless restart() came between: this is the check that catches it.
struct io_fixture {
    boost::asio::io_context io;

    io_fixture() = default;
    ~io_fixture() { BOOST_TEST(no_work_left(io), "the test left work on its io_context"); }
    io_fixture(const io_fixture&) = delete;
    io_fixture& operator=(const io_fixture&) = delete;

    template <class T>
    T run(boost::asio::awaitable<T> task) {
        return run_to_completion(io, std::move(task));
    }
};

}   // namespace test_support
