// libnl-genl requests to the kernel nbd driver (drivers/block/nbd.c, nbd_genl_*). Attribute
// layout as in linux/nbd-netlink.h; nbd-client's netlink_configure does the same.
#include "exports/kernel/nbd_netlink.hpp"

#include <linux/nbd-netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include <fmt/format.h>

namespace mpiod {

namespace {

/// Frees a message that was never handed to nl_send_sync (which frees it itself).
struct MessageGuard {
    nl_msg* msg;
    ~MessageGuard() {
        if (msg != nullptr) {
            nlmsg_free(msg);
        }
    }
};

void check_put(int rc, const char* what) {
    if (rc < 0) {
        throw NbdNetlinkError(fmt::format("nbd netlink: cannot add {}: {}", what, nl_geterror(rc)));
    }
}

void put_sockets(nl_msg* msg, const std::vector<int>& fds) {
    nlattr* socks = nla_nest_start(msg, NBD_ATTR_SOCKETS);
    if (socks == nullptr) {
        throw NbdNetlinkError("nbd netlink: message too large for the socket list");
    }
    for (int fd : fds) {
        nlattr* item = nla_nest_start(msg, NBD_SOCK_ITEM);
        if (item == nullptr) {
            throw NbdNetlinkError("nbd netlink: message too large for the socket list");
        }
        check_put(nla_put_u32(msg, NBD_SOCK_FD, static_cast<std::uint32_t>(fd)), "a socket");
        nla_nest_end(msg, item);
    }
    nla_nest_end(msg, socks);
}

int on_connect_reply(nl_msg* msg, void* arg) {
    nlattr* attrs[NBD_ATTR_MAX + 1] = {};
    if (genlmsg_parse(nlmsg_hdr(msg), 0, attrs, NBD_ATTR_MAX, nullptr) == 0 &&
        attrs[NBD_ATTR_INDEX] != nullptr) {
        *static_cast<std::optional<std::uint32_t>*>(arg) = nla_get_u32(attrs[NBD_ATTR_INDEX]);
    }
    return NL_OK;
}

int on_status_reply(nl_msg* msg, void* arg) {
    auto& out = *static_cast<std::vector<NbdDeviceState>*>(arg);
    nlattr* attrs[NBD_ATTR_MAX + 1] = {};
    if (genlmsg_parse(nlmsg_hdr(msg), 0, attrs, NBD_ATTR_MAX, nullptr) != 0 ||
        attrs[NBD_ATTR_DEVICE_LIST] == nullptr) {
        return NL_OK;
    }
    nlattr* item = nullptr;
    int rem = 0;
    nla_for_each_nested(item, attrs[NBD_ATTR_DEVICE_LIST], rem) {
        nlattr* dev[NBD_DEVICE_ATTR_MAX + 1] = {};
        if (nla_type(item) != NBD_DEVICE_ITEM ||
            nla_parse_nested(dev, NBD_DEVICE_ATTR_MAX, item, nullptr) != 0 ||
            dev[NBD_DEVICE_INDEX] == nullptr) {
            continue;
        }
        NbdDeviceState s;
        s.index = nla_get_u32(dev[NBD_DEVICE_INDEX]);
        s.connected = dev[NBD_DEVICE_CONNECTED] != nullptr && nla_get_u8(dev[NBD_DEVICE_CONNECTED]);
        out.push_back(s);
    }
    return NL_OK;
}

} // namespace

NbdNetlink::NbdNetlink() {
    sock_ = nl_socket_alloc();
    if (sock_ == nullptr) {
        throw NbdNetlinkError("nbd netlink: out of memory for a netlink socket");
    }
    if (int rc = genl_connect(sock_); rc < 0) {
        nl_socket_free(sock_);
        throw NbdNetlinkError(fmt::format("generic netlink unavailable: {}", nl_geterror(rc)));
    }
    family_ = genl_ctrl_resolve(sock_, NBD_GENL_FAMILY_NAME);
    if (family_ < 0) {
        nl_socket_free(sock_);
        throw NbdNetlinkError("kernel has no nbd module: modprobe nbd");
    }
}

NbdNetlink::~NbdNetlink() {
    nl_socket_free(sock_);
}

bool NbdNetlink::available() noexcept {
    try {
        NbdNetlink probe;
        return true;
    } catch (...) {
        return false;
    }
}

namespace {

nl_msg* new_request(int family, std::uint8_t cmd) {
    nl_msg* msg = nlmsg_alloc();
    if (msg == nullptr) {
        throw NbdNetlinkError("nbd netlink: out of memory for a message");
    }
    if (genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0, cmd, NBD_GENL_VERSION) ==
        nullptr) {
        nlmsg_free(msg);
        throw NbdNetlinkError("nbd netlink: cannot build the message header");
    }
    return msg;
}

/// Sends `msg` (consumed), runs `on_reply` for the kernel's answer, waits for the ACK.
void send(nl_sock* sock, nl_msg* msg, const char* what, nl_recvmsg_msg_cb_t on_reply, void* arg) {
    if (on_reply != nullptr) {
        nl_socket_modify_cb(sock, NL_CB_VALID, NL_CB_CUSTOM, on_reply, arg);
    }
    int rc = nl_send_sync(sock, msg);
    if (on_reply != nullptr) {
        nl_socket_modify_cb(sock, NL_CB_VALID, NL_CB_DEFAULT, nullptr, nullptr);
    }
    if (rc < 0) {
        // The kernel logs its reason (dmesg: "nbd: ..."); netlink only carries the errno.
        throw NbdNetlinkError(
            fmt::format("nbd {} refused by the kernel: {} (see dmesg)", what, nl_geterror(rc)));
    }
}

} // namespace

std::uint32_t NbdNetlink::connect(const NbdConnectSpec& spec) {
    if (spec.socket_fds.empty()) {
        throw NbdNetlinkError("nbd CONNECT needs at least one socket");
    }
    MessageGuard guard{new_request(family_, NBD_CMD_CONNECT)};
    nl_msg* msg = guard.msg;
    check_put(nla_put_u64(msg, NBD_ATTR_SIZE_BYTES, spec.size_bytes), "the size");
    check_put(nla_put_u64(msg, NBD_ATTR_BLOCK_SIZE_BYTES, spec.block_size), "the block size");
    check_put(nla_put_u64(msg, NBD_ATTR_SERVER_FLAGS, spec.server_flags), "the flags");
    check_put(nla_put_u64(msg, NBD_ATTR_TIMEOUT, static_cast<std::uint64_t>(spec.timeout.count())),
              "the timeout");
    check_put(nla_put_u64(msg, NBD_ATTR_DEAD_CONN_TIMEOUT,
                          static_cast<std::uint64_t>(spec.dead_conn_timeout.count())),
              "the dead-connection timeout");
    if (!spec.backend_id.empty()) {
        check_put(nla_put_string(msg, NBD_ATTR_BACKEND_IDENTIFIER, spec.backend_id.c_str()),
                  "the backend identifier");
    }
    put_sockets(msg, spec.socket_fds);
    std::optional<std::uint32_t> index;
    guard.msg = nullptr;
    send(sock_, msg, "CONNECT", on_connect_reply, &index);
    if (!index) {
        throw NbdNetlinkError("nbd CONNECT: the kernel's reply names no device");
    }
    return *index;
}

void NbdNetlink::reconfigure(std::uint32_t index, const NbdReconfigureSpec& spec) {
    MessageGuard guard{new_request(family_, NBD_CMD_RECONFIGURE)};
    nl_msg* msg = guard.msg;
    check_put(nla_put_u32(msg, NBD_ATTR_INDEX, index), "the index");
    if (!spec.backend_id.empty()) {
        check_put(nla_put_string(msg, NBD_ATTR_BACKEND_IDENTIFIER, spec.backend_id.c_str()),
                  "the backend identifier");
    }
    if (spec.size_bytes) {
        check_put(nla_put_u64(msg, NBD_ATTR_SIZE_BYTES, *spec.size_bytes), "the size");
    }
    if (spec.timeout) {
        check_put(
            nla_put_u64(msg, NBD_ATTR_TIMEOUT, static_cast<std::uint64_t>(spec.timeout->count())),
            "the timeout");
    }
    if (spec.dead_conn_timeout) {
        check_put(nla_put_u64(msg, NBD_ATTR_DEAD_CONN_TIMEOUT,
                              static_cast<std::uint64_t>(spec.dead_conn_timeout->count())),
                  "the dead-connection timeout");
    }
    if (!spec.socket_fds.empty()) {
        put_sockets(msg, spec.socket_fds);
    }
    guard.msg = nullptr;
    send(sock_, msg, "RECONFIGURE", nullptr, nullptr);
}

void NbdNetlink::disconnect(std::uint32_t index) {
    MessageGuard guard{new_request(family_, NBD_CMD_DISCONNECT)};
    check_put(nla_put_u32(guard.msg, NBD_ATTR_INDEX, index), "the index");
    nl_msg* msg = guard.msg;
    guard.msg = nullptr;
    send(sock_, msg, "DISCONNECT", nullptr, nullptr);
}

std::vector<NbdDeviceState> NbdNetlink::status(std::optional<std::uint32_t> index) {
    MessageGuard guard{new_request(family_, NBD_CMD_STATUS)};
    if (index) {
        check_put(nla_put_u32(guard.msg, NBD_ATTR_INDEX, *index), "the index");
    }
    std::vector<NbdDeviceState> out;
    nl_msg* msg = guard.msg;
    guard.msg = nullptr;
    send(sock_, msg, "STATUS", on_status_reply, &out);
    return out;
}

} // namespace mpiod
