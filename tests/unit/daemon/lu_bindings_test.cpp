// LuBindings: generated LU names, their sequence, and their life in the bindings file.
#include <set>
#include <string>
#include <vector>

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "daemon/lu_bindings.hpp"
#include "tests/unit/daemon/names_fixture.hpp"

namespace fs = std::filesystem;
using mpiod::LuBindings;
using mpiod::test::LogCapture;
using mpiod::test::read_text;
using mpiod::test::TempDir;
using mpiod::test::write_text;

namespace {

const std::set<std::string> nothing_taken;

std::string wwid(int i) {
    return "36001405" + std::to_string(1000 + i);
}

unsigned mode_of(const fs::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

} // namespace

TEST_CASE("generated names run a..z, then aa..az, ba.., zz, then aaa", "[bindings]") {
    CHECK(LuBindings::generated_name(0) == "mpatha");
    CHECK(LuBindings::generated_name(1) == "mpathb");
    CHECK(LuBindings::generated_name(25) == "mpathz");
    CHECK(LuBindings::generated_name(26) == "mpathaa");
    CHECK(LuBindings::generated_name(51) == "mpathaz");
    CHECK(LuBindings::generated_name(52) == "mpathba");
    CHECK(LuBindings::generated_name(701) == "mpathzz");
    CHECK(LuBindings::generated_name(702) == "mpathaaa");
}

TEST_CASE("new WWIDs get mpatha..mpathz then mpathaa, each once", "[bindings]") {
    TempDir dir;
    LuBindings b(dir.path() / "bindings");
    std::vector<std::string> names;
    for (int i = 0; i < 27; ++i) {
        names.push_back(b.name_for(wwid(i), nothing_taken));
    }
    CHECK(names[0] == "mpatha");
    CHECK(names[1] == "mpathb");
    CHECK(names[25] == "mpathz");
    CHECK(names[26] == "mpathaa");
    // Asking again gives the same name, not a new one.
    CHECK(b.name_for(wwid(3), nothing_taken) == "mpathd");
    CHECK(b.bound_name(wwid(26)) == "mpathaa");
    CHECK(b.bound_name("unknown").empty());
}

TEST_CASE("names survive a restart: a fresh LuBindings on the same file", "[bindings]") {
    TempDir dir;
    auto file = dir.path() / "bindings";
    {
        LuBindings first(file);
        REQUIRE(first.name_for(wwid(1), nothing_taken) == "mpatha");
        REQUIRE(first.name_for(wwid(2), nothing_taken) == "mpathb");
        REQUIRE(first.name_for(wwid(3), nothing_taken) == "mpathc");
    }
    auto text = read_text(file);
    CHECK(text.starts_with("#"));
    CHECK(text.find("\nmpatha " + wwid(1) + "\nmpathb " + wwid(2) + "\nmpathc " + wwid(3) + "\n") !=
          std::string::npos);
    CHECK_FALSE(fs::exists(dir.path() / "bindings.tmp"));
    CHECK(mode_of(file) == 0600);

    LuBindings second(file); // the WWIDs appear in another order after the restart
    CHECK(second.name_for(wwid(3), nothing_taken) == "mpathc");
    CHECK(second.name_for(wwid(1), nothing_taken) == "mpatha");
    CHECK(second.name_for(wwid(4), nothing_taken) == "mpathd");
    CHECK(second.name_for(wwid(2), nothing_taken) == "mpathb");
    CHECK(LuBindings(file).bound_name(wwid(4)) == "mpathd");
}

TEST_CASE("taken names are skipped and a bound name taken since is given up for good",
          "[bindings]") {
    TempDir dir;
    auto file = dir.path() / "bindings";
    {
        LuBindings b(file);
        CHECK(b.name_for(wwid(1), {"mpatha", "mpathc", "db0"}) == "mpathb");
        CHECK(b.name_for(wwid(2), {"mpatha", "mpathc", "db0"}) == "mpathd");
        CHECK(b.name_for(wwid(3), nothing_taken) == "mpatha");
    }
    LuBindings b(file);
    // An operator has since configured alias "mpathb" for another LU.
    LogCapture log;
    CHECK(b.name_for(wwid(1), {"mpathb"}) == "mpathc");
    CHECK(log.text().find("mpathb") != std::string::npos);
    auto text = read_text(file);
    CHECK(text.find("mpathb " + wwid(1)) == std::string::npos);
    CHECK(text.find("mpathc " + wwid(1)) != std::string::npos);
    CHECK(LuBindings(file).name_for(wwid(1), nothing_taken) == "mpathc");
}

TEST_CASE("malformed and conflicting lines are logged with FILE:LINE and skipped, the rest "
          "honoured",
          "[bindings]") {
    TempDir dir;
    auto file = dir.path() / "bindings";
    write_text(file, "# comment\n"              // 1
                     "\n"                       // 2
                     "mpatha\n"                 // 3: no WWID
                     "mpathb W2 extra\n"        // 4: three words
                     "bad/name W3\n"            // 5: not a name
                     "  mpathc\tW4  \n"         // 6: fine, blanks around
                     "mpathd W4\n"              // 7: W4 bound twice
                     "mpathc W5\n"              // 8: mpathc bound twice
                     "mpathe W6 # a comment\n"  // 9: fine
                     "..  W7\n"                 // 10: not a usable name
                     "\x01\x02\xff garbage\r\n" // 11: binary
                     "mpathf W8");              // 12: no final newline
    LogCapture log;
    LuBindings b(file);
    auto logged = log.text();
    for (int line : {3, 4, 5, 7, 8, 10, 11}) {
        INFO("line " << line);
        CHECK(logged.find(file.string() + ":" + std::to_string(line) + ":") != std::string::npos);
    }
    for (int line : {1, 2, 6, 9, 12}) {
        INFO("line " << line);
        CHECK(logged.find(file.string() + ":" + std::to_string(line) + ":") == std::string::npos);
    }
    CHECK(b.bound_name("W4") == "mpathc");
    CHECK(b.bound_name("W6") == "mpathe");
    CHECK(b.bound_name("W8") == "mpathf");
    CHECK(b.bound_name("W2").empty());
    CHECK(b.bound_name("W5").empty());
    // Free: mpatha, mpathb (their lines were malformed). mpathd lost its line to the first
    // binding of W4 and is kept out of use so the file stays unambiguous.
    CHECK(b.name_for("W5", nothing_taken) == "mpatha");
    CHECK(b.name_for("W2", nothing_taken) == "mpathb");
    CHECK(b.name_for("W9", nothing_taken) == "mpathg");

    // The operator's lines stay for them to fix; ours are appended after a newline.
    auto text = read_text(file);
    CHECK(text.find("mpathb W2 extra\n") != std::string::npos);
    CHECK(text.find("mpathf W8\nmpatha W5\nmpathb W2\nmpathg W9\n") != std::string::npos);
    LuBindings again(file);
    CHECK(again.bound_name("W5") == "mpatha");
    CHECK(again.bound_name("W8") == "mpathf");
}

TEST_CASE("a missing state directory is created with mode 0700", "[bindings]") {
    TempDir dir;
    auto file = dir.path() / "var" / "lib" / "mpiod" / "bindings";
    LuBindings b(file);
    CHECK(b.name_for(wwid(1), nothing_taken) == "mpatha");
    CHECK(fs::is_regular_file(file));
    CHECK(mode_of(dir.path() / "var") == 0700);
    CHECK(mode_of(file.parent_path()) == 0700);
    CHECK(LuBindings(file).bound_name(wwid(1)) == "mpatha");
}

TEST_CASE("an unwritable file still gives names for this run, and an error", "[bindings]") {
    TempDir dir;
    // A regular file where the directory should be: fails even for root.
    write_text(dir.path() / "not-a-dir", "");
    auto file = dir.path() / "not-a-dir" / "bindings";
    LogCapture log;
    LuBindings b(file);
    CHECK(b.name_for(wwid(1), nothing_taken) == "mpatha");
    CHECK(b.name_for(wwid(2), nothing_taken) == "mpathb");
    CHECK(b.name_for(wwid(1), nothing_taken) == "mpatha");
    CHECK(log.text().find("error bindings file " + file.string() + ": cannot write") !=
          std::string::npos);
}

TEST_CASE("an unreadable bindings file is neither trusted nor overwritten", "[bindings]") {
    TempDir dir;
    auto file = dir.path() / "bindings";
    fs::create_directory(file); // read(2) fails with EISDIR, even for root
    write_text(file / "keep", "x");
    LogCapture log;
    LuBindings b(file);
    CHECK(log.text().find("cannot read") != std::string::npos);
    CHECK(b.name_for(wwid(1), nothing_taken) == "mpatha");
    CHECK(b.name_for(wwid(1), nothing_taken) == "mpatha");
    CHECK(fs::is_directory(file));
    CHECK(fs::exists(file / "keep"));
    CHECK_FALSE(fs::exists(dir.path() / "bindings.tmp"));
}

TEST_CASE("a WWID the file cannot hold gets a name for this run only", "[bindings]") {
    TempDir dir;
    auto file = dir.path() / "bindings";
    LogCapture log;
    LuBindings b(file);
    CHECK(b.name_for("has blank", nothing_taken) == "mpatha");
    CHECK(b.name_for("has blank", nothing_taken) == "mpatha");
    CHECK(b.name_for("W1", nothing_taken) == "mpathb");
    CHECK(log.text().find("has blank") != std::string::npos);
    CHECK(read_text(file).find("blank") == std::string::npos);
    CHECK(LuBindings(file).bound_name("W1") == "mpathb");
}
