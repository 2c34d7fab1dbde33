// A tgtd on loopback for the iSCSI unit tests, configured through tests/integration/
// lib-tgt.sh: own control socket directory, free ports picked at runtime, SIGKILLed (and
// its directory removed) by the destructor.
#pragma once

#include <string>
#include <vector>

namespace mpiod::test {

class TgtFixture {
public:
    /// Starts tgtd with one portal; throws std::runtime_error when it cannot.
    TgtFixture();
    ~TgtFixture();
    TgtFixture(const TgtFixture&) = delete;
    TgtFixture& operator=(const TgtFixture&) = delete;

    /// True when tgtd/tgtadm are installed (tests skip otherwise).
    static bool available();

    /// Adds LU `lun` of `size_mb` MiB to target `tid` (created as iqn.2024-01.org.mpiod:t<tid>)
    /// with the given scsi_id (32 hex digits starting with 6 gives NAA 6 = scsi_id).
    void add_lun(int tid, int lun, int size_mb, const std::string& scsi_id,
                 const std::string& params = "");
    /// Runs lib-tgt.sh commands with NAME=t bound (e.g. "tgtadm_for t --op ...").
    void shell(const std::string& commands);

    std::string iqn(int tid) const { return "iqn.2024-01.org.mpiod:t" + std::to_string(tid); }
    std::string uri(int tid, int lun) const;
    std::string portal_uri() const { return "iscsi://127.0.0.1:" + std::to_string(port_); }
    int port() const { return port_; }
    int pid() const { return pid_; }
    const std::string& dir() const { return dir_; }

    void kill9();
    void stop();   // SIGSTOP
    void resume(); // SIGCONT
    void drop_connections(int tid);

private:
    std::string run(const std::string& commands);
    std::string dir_;
    int port_ = 0;
    int pid_ = 0;
};

} // namespace mpiod::test

/// Every test that needs a tgtd starts with this: a missing tgt is a failure, not a skip
/// (scripts/install-deps.sh installs it).
#define REQUIRE_TGT()                                                                              \
    do {                                                                                           \
        if (!::mpiod::test::TgtFixture::available()) {                                             \
            FAIL("tgt (tgtd, tgtadm) is not installed: scripts/install-deps.sh installs it");      \
        }                                                                                          \
    } while (false)
