#include "network/network.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <sstream>

#include "common/errors.hpp"
#include "common/unique_fd.hpp"
#include "common/user_account.hpp"

namespace spark_slurm {

std::uint16_t try_bind_tcp(std::uint16_t port, BindScope scope, ReuseAddress reuse) {
    UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!socket.valid()) return 0;
    if (reuse == ReuseAddress::Yes) {
        int one = 1;
        ::setsockopt(socket.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(scope == BindScope::Loopback ? INADDR_LOOPBACK : INADDR_ANY);
    address.sin_port = htons(port);
    if (::bind(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return 0;
    socklen_t length = sizeof address;
    if (::getsockname(socket.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
    return ntohs(address.sin_port);
}

std::string this_hostname() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0)
        throw LaunchError("while reading this node's hostname");
    return name;
}

std::string resolve_address(const std::string& hostname) {
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* raw = nullptr;
    if (::getaddrinfo(hostname.c_str(), nullptr, &hints, &raw) != 0) return "";
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> results(raw, ::freeaddrinfo);
    for (addrinfo* entry = results.get(); entry; entry = entry->ai_next) {
        auto* in = reinterpret_cast<sockaddr_in*>(entry->ai_addr);
        if ((ntohl(in->sin_addr.s_addr) >> 24) == 127) continue;
        char text[INET_ADDRSTRLEN] = {};
        ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
        return text;
    }
    return "";
}

bool is_local_address(const std::string& address) {
    ifaddrs* raw = nullptr;
    if (::getifaddrs(&raw) != 0) return false;
    std::unique_ptr<ifaddrs, decltype(&::freeifaddrs)> interfaces(raw, ::freeifaddrs);
    for (ifaddrs* entry = interfaces.get(); entry; entry = entry->ifa_next) {
        if (!entry->ifa_addr) continue;
        char text[INET6_ADDRSTRLEN] = {};
        if (entry->ifa_addr->sa_family == AF_INET) {
            ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(entry->ifa_addr)->sin_addr, text,
                        sizeof text);
        } else if (entry->ifa_addr->sa_family == AF_INET6) {
            ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(entry->ifa_addr)->sin6_addr,
                        text, sizeof text);
        } else {
            continue;
        }
        if (address == text) return true;
    }
    return false;
}

namespace {

// The claim on `port`: an abstract socket ("\0spark-slurm/port/N"), or none when another
// launcher on this node holds it.
UniqueFd claim_socket(std::uint16_t port) {
    UniqueFd socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!socket.valid()) return socket;
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string name = "spark-slurm/port/" + std::to_string(port);
    std::memcpy(address.sun_path + 1, name.data(), name.size());
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    if (::bind(socket.get(), reinterpret_cast<sockaddr*>(&address), length) != 0) return {};
    return socket;
}

}  // namespace

std::uint16_t PortClaims::claim(std::uint16_t preferred) {
    auto take = [&](std::uint16_t port) {
        if (port == 0 || ports_.count(port)) return false;
        UniqueFd claim = claim_socket(port);
        // Tested as the daemon will bind it.
        if (!claim.valid() ||
            try_bind_tcp(port, BindScope::AllAddresses, ReuseAddress::Yes) != port)
            return false;
        claims_.push_back(std::move(claim));
        ports_.insert(port);
        return true;
    };
    if (take(preferred)) return preferred;
    for (int attempt = 0; attempt < 100; ++attempt) {
        std::uint16_t port = try_bind_tcp(0, BindScope::AllAddresses, ReuseAddress::Yes);
        if (take(port)) return port;
    }
    throw LaunchError("while looking for a free TCP port on " + this_hostname() + ": none found");
}

bool is_ipv4_address(const std::string& address) {
    in_addr parsed{};
    return ::inet_pton(AF_INET, address.c_str(), &parsed) == 1;
}

ConnectionProbe::ConnectionProbe(const std::string& address, std::uint16_t port,
                                 std::chrono::milliseconds limit)
    : deadline_(std::chrono::steady_clock::now() + limit) {
    sockaddr_in target{};
    target.sin_family = AF_INET;
    target.sin_port = htons(port);
    if (::inet_pton(AF_INET, address.c_str(), &target.sin_addr) != 1) {
        result_ = false;
        return;
    }
    fd_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd_.valid()) {
        result_ = false;
    } else if (::connect(fd_.get(), reinterpret_cast<const sockaddr*>(&target), sizeof target) ==
               0) {
        result_ = true;
    } else if (errno != EINPROGRESS) {
        result_ = false;
    }
    if (result_) fd_.reset();
}

std::optional<bool> ConnectionProbe::result() {
    if (result_) return result_;
    pollfd waiting{fd_.get(), POLLOUT, 0};
    if (::poll(&waiting, 1, 0) == 1) {
        int error = 0;
        socklen_t length = sizeof error;
        result_ = ::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0;
    } else if (std::chrono::steady_clock::now() >= deadline_) {
        result_ = false;
    }
    if (result_) fd_.reset();
    return result_;
}

std::string local_address_towards(const std::string& address) {
    sockaddr_in remote{};
    remote.sin_family = AF_INET;
    remote.sin_port = htons(9);  // discard; nothing is sent to it
    if (::inet_pton(AF_INET, address.c_str(), &remote.sin_addr) != 1) return "";
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return "";
    std::string local;
    sockaddr_in own{};
    socklen_t length = sizeof own;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&remote), sizeof remote) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&own), &length) == 0) {
        char text[INET_ADDRSTRLEN] = {};
        if (::inet_ntop(AF_INET, &own.sin_addr, text, sizeof text)) local = text;
    }
    ::close(fd);
    return local;
}

std::string canonical_hostname() {
    std::string name = this_hostname();
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_flags = AI_CANONNAME;
    addrinfo* raw = nullptr;
    if (::getaddrinfo(name.c_str(), nullptr, &hints, &raw) != 0) return name;
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> results(raw, ::freeaddrinfo);
    if (results->ai_canonname && *results->ai_canonname) return results->ai_canonname;
    return name;
}

namespace {

// How /proc/net/tcp{,6} print the local addresses a connection to `address` lands on: the
// address (each 32-bit word in the kernel's byte order), its IPv4-mapped IPv6 form, ::1 for the
// loopback, and the wildcards.
std::set<std::string> listening_forms(const std::string& address) {
    in_addr ipv4{};
    if (::inet_pton(AF_INET, address.c_str(), &ipv4) != 1) return {};
    const std::string word = fmt::format("{:08X}", ipv4.s_addr);
    std::set<std::string> forms{word, "0000000000000000FFFF0000" + word, "00000000",
                                "00000000000000000000000000000000"};
    if (address == kLoopbackAddress) forms.insert("00000000000000000000000001000000");
    return forms;
}

}  // namespace

std::vector<unsigned> listener_uids_in(const std::string& proc_net_tcp, const std::string& address,
                                       std::uint16_t port) {
    // "  0: 0100007F:1F90 00000000:0000 0A ... uid ...": the local address in the kernel's
    // byte order, the port in big-endian hex, state 0A = LISTEN, the uid in column 8.
    const std::set<std::string> forms = listening_forms(address);
    std::vector<unsigned> uids;
    std::istringstream lines(proc_net_tcp);
    std::string line;
    std::getline(lines, line);  // the header
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::string slot, local, remote, state, queues, timer, retransmits;
        unsigned uid = 0;
        if (!(fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid))
            continue;
        const auto colon = local.rfind(':');
        if (state != "0A" || colon == std::string::npos) continue;
        unsigned long local_port = 0;
        try {
            local_port = std::stoul(local.substr(colon + 1), nullptr, 16);
        } catch (const std::exception&) {
            continue;
        }
        if (local_port == port && forms.count(local.substr(0, colon))) uids.push_back(uid);
    }
    return uids;
}

std::optional<std::string> foreign_listener(const std::string& address, std::uint16_t port) {
    for (unsigned uid : listener_uids(address, port)) {
        if (uid != ::getuid()) return std::to_string(uid) + " (" + user_name_of(uid) + ")";
    }
    return std::nullopt;
}

std::vector<unsigned> listener_uids(const std::string& address, std::uint16_t port) {
    std::vector<unsigned> uids;
    for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        std::ifstream file(table);
        std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
        for (unsigned uid : listener_uids_in(text, address, port)) uids.push_back(uid);
    }
    return uids;
}

}  // namespace spark_slurm
