// byte_pump: the least work a userspace NBD relay can do on this kernel, for
// bench/fio-nbd.sh to print as the floor beside mpiod. It parses nothing: each client
// connection gets its own server connection, and bytes are copied both ways as they come
// (one recv of whatever is there into a 256 KiB buffer per wakeup, then one send), handshake
// included. One thread, level-triggered epoll; an fd's interest changes only when a send
// could not take everything. No multipath, no engine, no checks: a measuring tool only.
// Usage: byte_pump LISTEN_SOCKET SERVER_SOCKET
#include <cerrno>
#include <cstdio>
#include <vector>

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace {

struct Pair;

// One socket of a pair: what it reads goes into `buf` until sent to the other socket.
struct End {
    Pair* pair = nullptr;
    int fd = -1;
    End* peer = nullptr;
    std::vector<char> buf = std::vector<char>(256 * 1024);
    size_t begin = 0; // [begin, end): read from fd, not yet sent to peer
    size_t end = 0;
    unsigned events = 0; // the epoll interest now registered
};

struct Pair {
    End client;
    End server;
    bool dead = false;
};

int epfd = -1;

sockaddr_un address(const char* path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    return a;
}

// An end reads while its own buffer is empty and writes while its peer's is not.
void arm(End& e) {
    unsigned want = (e.begin == e.end ? unsigned{EPOLLIN} : 0u) |
                    (e.peer->begin != e.peer->end ? unsigned{EPOLLOUT} : 0u);
    if (want != e.events) {
        epoll_event ev{};
        ev.events = want;
        ev.data.ptr = &e;
        epoll_ctl(epfd, EPOLL_CTL_MOD, e.fd, &ev);
        e.events = want;
    }
}

// Sends what `from` holds to its peer; false when the connection is gone.
bool flush(End& from) {
    while (from.begin != from.end) {
        ssize_t n = send(from.peer->fd, from.buf.data() + from.begin, from.end - from.begin,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            return errno == EAGAIN;
        }
        from.begin += static_cast<size_t>(n);
    }
    from.begin = from.end = 0;
    return true;
}

// One recv of what is there, then a send of it; false when the connection is gone.
bool pump(End& from) {
    ssize_t n = recv(from.fd, from.buf.data(), from.buf.size(), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN)) {
        return false;
    }
    if (n > 0) {
        from.begin = 0;
        from.end = static_cast<size_t>(n);
    }
    return flush(from);
}

void add(End& e, Pair* p, int fd, End* peer) {
    e.pair = p;
    e.fd = fd;
    e.peer = peer;
    e.events = EPOLLIN;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &e;
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: byte_pump LISTEN_SOCKET SERVER_SOCKET\n");
        return 2;
    }
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un la = address(argv[1]);
    unlink(argv[1]);
    if (bind(lfd, reinterpret_cast<sockaddr*>(&la), sizeof la) != 0 || listen(lfd, 16) != 0) {
        std::perror("byte_pump: listen");
        return 1;
    }
    epfd = epoll_create1(0);
    epoll_event lev{};
    lev.events = EPOLLIN;
    lev.data.ptr = nullptr;
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev);
    epoll_event events[64];
    std::vector<Pair*> dead;
    for (;;) {
        int n = epoll_wait(epfd, events, 64, -1);
        for (int i = 0; i < n; ++i) {
            auto* e = static_cast<End*>(events[i].data.ptr);
            if (e == nullptr) {
                int c = accept(lfd, nullptr, nullptr);
                int s = socket(AF_UNIX, SOCK_STREAM, 0);
                sockaddr_un sa = address(argv[2]);
                if (c < 0 || connect(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
                    std::perror("byte_pump: accept or connect");
                    close(c);
                    close(s);
                    continue;
                }
                auto* p = new Pair;
                add(p->client, p, c, &p->server);
                add(p->server, p, s, &p->client);
                continue;
            }
            Pair* p = e->pair;
            if (p->dead) {
                continue; // closed earlier in this batch
            }
            bool ok = true;
            if (events[i].events & EPOLLOUT) {
                ok = flush(*e->peer); // what the peer read, to this end
            }
            if (ok && (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && e->begin == e->end) {
                ok = pump(*e);
            }
            if (!ok) {
                close(p->client.fd);
                close(p->server.fd);
                p->dead = true;
                dead.push_back(p);
                continue;
            }
            arm(*e);
            arm(*e->peer);
        }
        for (Pair* p : dead) {
            delete p;
        }
        dead.clear();
    }
}
