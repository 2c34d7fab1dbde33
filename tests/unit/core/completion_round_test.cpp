// CompletionRound: work deferred inside a round runs at its end, in order, once; outside a
// round it is posted; nested rounds leave the work to the outermost.
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "core/completion_round.hpp"

using mpiod::CompletionRound;

TEST_CASE("work deferred inside a round runs when the round ends, in order, not before",
          "[completion_round]") {
    boost::asio::io_context io;
    std::vector<std::string> log;
    {
        const CompletionRound round;
        CHECK(CompletionRound::open());
        CompletionRound::defer(io.get_executor(), [&] { log.push_back("first"); });
        CompletionRound::defer(io.get_executor(), [&] { log.push_back("second"); });
        CHECK(log.empty());
    }
    CHECK(log == std::vector<std::string>{"first", "second"});
    CHECK_FALSE(CompletionRound::open());
    CHECK(io.poll() == 0); // nothing was posted
}

TEST_CASE("work deferred by deferred work runs in the same round", "[completion_round]") {
    boost::asio::io_context io;
    std::vector<std::string> log;
    {
        const CompletionRound round;
        CompletionRound::defer(io.get_executor(), [&] {
            log.push_back("outer");
            CompletionRound::defer(io.get_executor(), [&] { log.push_back("inner"); });
        });
    }
    CHECK(log == std::vector<std::string>{"outer", "inner"});
    CHECK(io.poll() == 0);
}

TEST_CASE("outside a round deferred work is posted, not run", "[completion_round]") {
    boost::asio::io_context io;
    int runs = 0;
    CompletionRound::defer(io.get_executor(), [&] { ++runs; });
    CHECK(runs == 0);
    CHECK(io.poll() == 1);
    CHECK(runs == 1);
}

TEST_CASE("a nested round leaves its work to the outermost round", "[completion_round]") {
    boost::asio::io_context io;
    std::vector<std::string> log;
    {
        const CompletionRound outer;
        {
            const CompletionRound inner;
            CompletionRound::defer(io.get_executor(), [&] { log.push_back("a"); });
        }
        CHECK(log.empty()); // the inner round's end ran nothing
        CHECK(CompletionRound::open());
    }
    CHECK(log == std::vector<std::string>{"a"});
}

TEST_CASE("work that throws is logged and the rest of the round still runs", "[completion_round]") {
    boost::asio::io_context io;
    int runs = 0;
    {
        const CompletionRound round;
        CompletionRound::defer(io.get_executor(), [] { throw std::runtime_error("boom"); });
        CompletionRound::defer(io.get_executor(), [&] { ++runs; });
    }
    CHECK(runs == 1);
    CHECK_FALSE(CompletionRound::open());
}
