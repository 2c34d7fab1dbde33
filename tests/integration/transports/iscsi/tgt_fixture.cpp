#include "tgt_fixture.hpp"

#include <array>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

namespace mpiod::test {

namespace {

std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
}

} // namespace

bool TgtFixture::available() {
    return std::system("command -v tgtd >/dev/null 2>&1 && command -v tgtadm >/dev/null 2>&1") == 0;
}

std::string TgtFixture::run(const std::string& commands) {
    // lib-tgt.sh expects lib.sh's T, PIDS, fail and wait_for.
    std::string script = "set -e; T=" + quote(dir_) +
                         "; PIDS=(); fail() { echo \"$*\" >&2; exit 1; }; "
                         "wait_for() { local l=$1; shift; local d=$((SECONDS + l)); "
                         "until \"$@\" >/dev/null 2>&1; do [ $SECONDS -lt $d ] || return 1; "
                         "sleep 0.05; done; }; source " +
                         quote(MPIOD_LIB_TGT) + "; TGTD_PID_t=" + std::to_string(pid_) + "; " +
                         commands;
    std::string cmd = "bash -c " + quote(script) + " 2>>" + quote(dir_ + "/fixture.err");
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) {
        throw std::runtime_error("popen failed");
    }
    std::string out;
    std::array<char, 256> buf{};
    while (std::fgets(buf.data(), buf.size(), p) != nullptr) {
        out += buf.data();
    }
    if (::pclose(p) != 0) {
        throw std::runtime_error("tgt fixture command failed: " + commands);
    }
    return out;
}

TgtFixture::TgtFixture() {
    char tmpl[] = "/tmp/mpiod-tgt.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    dir_ = tmpl;
    std::istringstream in(run("P=$(free_port); start_tgtd t $P; echo $P $(tgtd_pid t)"));
    in >> port_ >> pid_;
    if (port_ == 0 || pid_ == 0) {
        throw std::runtime_error("tgtd did not start");
    }
}

TgtFixture::~TgtFixture() {
    if (pid_ > 0) {
        ::kill(pid_, SIGCONT);
        ::kill(pid_, SIGKILL);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

void TgtFixture::add_lun(int tid, int lun, int size_mb, const std::string& scsi_id,
                         const std::string& params) {
    std::string img = dir_ + "/lun" + std::to_string(tid) + "-" + std::to_string(lun) + ".img";
    run("truncate -s " + std::to_string(size_mb) + "M " + quote(img) + "; tgt_add_lun t " +
        std::to_string(tid) + " " + iqn(tid) + " " + std::to_string(lun) + " " + quote(img) + " " +
        scsi_id + " SN-" + std::to_string(tid) + "-" + std::to_string(lun) + " " + quote(params));
}

void TgtFixture::shell(const std::string& commands) {
    run(commands);
}

std::string TgtFixture::uri(int tid, int lun) const {
    return portal_uri() + "/" + iqn(tid) + "/" + std::to_string(lun);
}

void TgtFixture::kill9() {
    ::kill(pid_, SIGKILL);
    pid_ = 0;
}

void TgtFixture::stop() {
    ::kill(pid_, SIGSTOP);
}

void TgtFixture::resume() {
    ::kill(pid_, SIGCONT);
}

void TgtFixture::drop_connections(int tid) {
    run("tgt_drop_connections t " + std::to_string(tid));
}

} // namespace mpiod::test
