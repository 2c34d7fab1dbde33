// syscall_cost: what system calls cost on this machine, for bench/fio-nbd.sh to print beside
// the relays. Two parts, both on a Unix stream socketpair with no other process involved:
//  - single calls that a relay makes besides moving data (an empty recv, FIONREAD, an epoll
//    re-arm, a non-blocking epoll_wait), next to getppid, the cost of entering the kernel;
//  - the two ways of moving 32 4 KiB read replies and their requests through a relay's server
//    side: libnbd's (a send per request, a recv for each reply's header and one for its
//    data: mpiod's path connection) and in bulk (one send of all requests, one recv of all
//    replies: byte-pump). Only the relay's calls are timed; the server's side is done by the
//    same thread between them, untimed.
// Usage: syscall_cost [rounds, default 20000]
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

using Clock = std::chrono::steady_clock;

double micros(Clock::duration d) {
    return std::chrono::duration<double, std::micro>(d).count();
}

template <typename F>
double per_call(int n, F f) {
    const auto start = Clock::now();
    for (int i = 0; i < n; ++i) {
        f();
    }
    return micros(Clock::now() - start) / n;
}

void must(bool ok, const char* what) {
    if (!ok) {
        std::perror(what);
        std::exit(1);
    }
}

constexpr int depth = 32;
constexpr size_t request = 28;      // an NBD READ request
constexpr size_t reply_header = 16; // a simple reply's header
constexpr size_t data = 4096;       // the read's data
constexpr size_t reply = reply_header + data;

// Receives exactly n bytes; returns the recv calls it took.
long recv_all(int fd, char* p, size_t n) {
    long calls = 0;
    while (n > 0) {
        const ssize_t r = ::recv(fd, p, n, 0);
        must(r > 0, "recv");
        p += r;
        n -= static_cast<size_t>(r);
        ++calls;
    }
    return calls;
}

void send_all(int fd, const char* p, size_t n) {
    must(::send(fd, p, n, 0) == static_cast<ssize_t>(n), "send");
}

struct Pattern {
    double micros_per_io = 0;
    double calls_per_io = 0;
};

// One round: the relay sends `depth` requests to the server, the server answers them all, the
// relay receives the replies. `bulk` chooses the relay's calls; the server's are untimed.
Pattern measure(int relay, int server, int rounds, bool bulk) {
    std::vector<char> requests(depth * request, 'q');
    std::vector<char> replies(depth * reply, 'r');
    std::vector<char> in(depth * reply);
    Clock::duration spent{};
    long calls = 0;
    for (int round = 0; round < rounds; ++round) {
        auto t = Clock::now();
        if (bulk) {
            send_all(relay, requests.data(), requests.size());
            ++calls;
        } else {
            for (int i = 0; i < depth; ++i) {
                send_all(relay, requests.data() + i * request, request);
                ++calls;
            }
        }
        spent += Clock::now() - t;
        recv_all(server, in.data(), requests.size());
        send_all(server, replies.data(), replies.size());
        t = Clock::now();
        if (bulk) {
            calls += recv_all(relay, in.data(), replies.size());
        } else {
            for (int i = 0; i < depth; ++i) {
                calls += recv_all(relay, in.data(), reply_header);
                calls += recv_all(relay, in.data() + reply_header, data);
            }
        }
        spent += Clock::now() - t;
    }
    const double ios = static_cast<double>(rounds) * depth;
    return {micros(spent) / ios, static_cast<double>(calls) / ios};
}

} // namespace

int main(int argc, char** argv) {
    const int rounds = argc > 1 ? std::atoi(argv[1]) : 20000;
    std::array<int, 2> sv{};
    must(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv.data()) == 0, "socketpair");
    const int big = 4 << 20;
    for (int fd : sv) {
        ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    }
    const int relay = sv[0];
    const int server = sv[1];

    // Single calls, on an empty non-blocking socket registered edge-triggered.
    const int probe = ::dup(relay);
    must(probe >= 0, "dup");
    must(::fcntl(probe, F_SETFL, O_NONBLOCK) == 0, "fcntl");
    const int ep = ::epoll_create1(0);
    must(ep >= 0, "epoll_create1");
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLET;
    must(::epoll_ctl(ep, EPOLL_CTL_ADD, probe, &ev) == 0, "epoll_ctl");
    char byte = 0;
    const int n = rounds * 10;
    std::printf("one call (us): getppid %.2f, empty recv %.2f, FIONREAD %.2f, "
                "epoll_ctl MOD %.2f, epoll_wait(0) %.2f\n",
                per_call(n, [] { (void)::getppid(); }),
                per_call(n, [&] { (void)::recv(probe, &byte, 1, 0); }),
                per_call(n,
                         [&] {
                             int v = 0;
                             (void)::ioctl(probe, FIONREAD, &v);
                         }),
                per_call(n, [&] { (void)::epoll_ctl(ep, EPOLL_CTL_MOD, probe, &ev); }),
                per_call(n, [&] {
                    epoll_event out[4];
                    (void)::epoll_wait(ep, out, 4, 0);
                }));

    const Pattern libnbd = measure(relay, server, rounds, false);
    const Pattern bulk = measure(relay, server, rounds, true);
    std::printf("server side of a relay, 4k reads at QD%d, per I/O: libnbd's calls (a send per "
                "request, two recv per reply) %.2f us in %.2f calls; in bulk (one send, one recv "
                "per %d) %.2f us in %.2f calls\n",
                depth, libnbd.micros_per_io, libnbd.calls_per_io, depth, bulk.micros_per_io,
                bulk.calls_per_io);
    return 0;
}
