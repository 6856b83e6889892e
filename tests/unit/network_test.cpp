// Port claims: two launchers on one node (jobs sharing nodes) that probe at the same moment are
// never handed the same port, and a claim ends with its holder.
#include "network/network.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <utility>

#include "common/unique_fd.hpp"
#include "other_users_listener.hpp"

namespace spark_slurm {
namespace {

TEST(PortClaims, TwoLaunchersNeverGetTheSamePort) {
    PortClaims first, second;
    const std::uint16_t preferred = first.claim(0);  // a port free here
    PortClaims probe;
    // The first launcher holds `preferred`: the second is given another one, though nothing
    // listens on `preferred` yet.
    std::uint16_t other = second.claim(preferred);
    EXPECT_NE(other, preferred);
    EXPECT_NE(other, 0);
    std::set<std::uint16_t> all;
    for (int i = 0; i < 20; ++i) {
        all.insert(first.claim(8080));
        all.insert(second.claim(8080));
    }
    EXPECT_EQ(all.size(), 40u);
}

TEST(PortClaims, AClaimEndsWithItsHolder) {
    std::uint16_t port;
    {
        PortClaims holder;
        port = holder.claim(0);
        PortClaims other;
        EXPECT_NE(other.claim(port), port);
    }
    PortClaims later;
    EXPECT_EQ(later.claim(port), port);
}

// A listener on 127.0.0.1 for the port checks to run into; -1 and port 0 when it cannot be made.
std::pair<UniqueFd, std::uint16_t> loopback_listener(int reuse) {
    UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ::setsockopt(socket.get(), SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(socket.get(), 1) != 0 ||
        ::getsockname(socket.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0)
        return {UniqueFd(), 0};
    return {std::move(socket), ntohs(address.sin_port)};
}

TEST(TryBindTcp, GivesAFreePortAndLeavesItFree) {
    for (BindScope scope : {BindScope::AllAddresses, BindScope::Loopback}) {
        for (ReuseAddress reuse : {ReuseAddress::No, ReuseAddress::Yes}) {
            const std::uint16_t port = try_bind_tcp(0, scope, reuse);
            ASSERT_NE(port, 0);
            EXPECT_EQ(try_bind_tcp(port, scope, reuse), port);
        }
    }
}

TEST(TryBindTcp, APortSomeoneListensOnIsTaken) {
    for (int listener_reuse : {0, 1}) {
        auto [listener, port] = loopback_listener(listener_reuse);
        ASSERT_NE(port, 0);
        for (BindScope scope : {BindScope::AllAddresses, BindScope::Loopback}) {
            for (ReuseAddress reuse : {ReuseAddress::No, ReuseAddress::Yes})
                EXPECT_EQ(try_bind_tcp(port, scope, reuse), 0);
        }
        listener.reset();
        EXPECT_EQ(try_bind_tcp(port, BindScope::Loopback, ReuseAddress::No), port);
    }
}

// The leader's loop asks whether a port accepts without ever waiting (issue 27: it used to block
// up to 200 ms per check).
TEST(ConnectionProbe, AListenerIsAcceptedAClosedPortRefusedAndNeitherWaits) {
    using namespace std::chrono_literals;
    auto [listener, port] = loopback_listener(0);
    ASSERT_NE(port, 0);
    auto answer = [](ConnectionProbe& probe) {
        std::optional<bool> result;
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (!(result = probe.result()) && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(1ms);
        }
        return result;
    };
    ConnectionProbe open("127.0.0.1", port, 2s);
    EXPECT_EQ(answer(open), std::optional<bool>(true));
    EXPECT_EQ(open.result(), std::optional<bool>(true));  // the answer stays
    listener.reset();
    ConnectionProbe closed("127.0.0.1", port, 2s);
    EXPECT_EQ(answer(closed), std::optional<bool>(false));
    ConnectionProbe nonsense("not an address", port, 2s);
    EXPECT_EQ(nonsense.result(), std::optional<bool>(false));
    // 192.0.2.1 (TEST-NET-1) is not routed here: the attempt is under way or refused at once,
    // and result() returns without waiting either way; by the limit the answer is "no".
    ConnectionProbe unrouted("192.0.2.1", 9, 50ms);
    const auto started = std::chrono::steady_clock::now();
    (void)unrouted.result();
    EXPECT_LT(std::chrono::steady_clock::now() - started, 20ms);
    EXPECT_EQ(answer(unrouted), std::optional<bool>(false));
}

TEST(Network, Ipv4AddressesOnly) {
    EXPECT_TRUE(is_ipv4_address("10.1.2.3"));
    EXPECT_FALSE(is_ipv4_address("fd00::1"));
    EXPECT_FALSE(is_ipv4_address("node1"));
}

}  // namespace
}  // namespace spark_slurm

namespace spark_slurm {
namespace {

// `spark-slurm env`'s SPARK_LOCAL_IP: the source address the kernel picks, nothing sent.
TEST(Network, LocalAddressTowardsAPeer) {
    EXPECT_EQ(local_address_towards("127.0.0.1"), "127.0.0.1");
    EXPECT_EQ(local_address_towards("node1"), "");
    EXPECT_EQ(local_address_towards(""), "");
    EXPECT_FALSE(canonical_hostname().empty());
}

// /proc/net/tcp and tcp6 as the kernel writes them: a listener on 127.0.0.1:8080 of uid 1001, one
// on every address (IPv6) of uid 0 for 8080 too, an established connection of uid 7 from port
// 8080, and a listener on a node address (not reachable through the loopback).
TEST(Listeners, AreReadFromProcNetTcp) {
    const std::string tcp =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
        "timeout inode\n"
        "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1001    "
        "    0 41 1 0000000000000000 100 0 0 10 0\n"
        "   1: 0100007F:1F90 0100007F:A1B2 01 00000000:00000000 00:00000000 00000000     7    "
        "    0 42 1 0000000000000000 20 4 30 10 -1\n"
        "   2: 0B4DD50A:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1002    "
        "    0 43 1 0000000000000000 100 0 0 10 0\n";
    EXPECT_EQ(listener_uids_in(tcp, "127.0.0.1", 8080), (std::vector<unsigned>{1001}));
    EXPECT_TRUE(listener_uids_in(tcp, "127.0.0.1", 8081).empty());
    EXPECT_TRUE(listener_uids_in(tcp, "127.0.0.1", 9999).empty());
    const std::string tcp6 =
        "  sl  local_address                         remote_address                        st "
        "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        "   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A "
        "00000000:00000000 00:00000000 00000000     0        0 44 1 0000000000000000 100 0 0 10 "
        "0\n";
    EXPECT_EQ(listener_uids_in(tcp6, "127.0.0.1", 8080), (std::vector<unsigned>{0}));
    EXPECT_TRUE(listener_uids_in("garbage\nmore garbage 1 2 3\n", "127.0.0.1", 8080).empty());
    // A node address (10.213.77.11 is 0B4DD50A in the kernel's order): its own listener, the
    // wildcards, its IPv4-mapped form; not the loopback's.
    EXPECT_EQ(listener_uids_in(tcp, "10.213.77.11", 8081), (std::vector<unsigned>{1002}));
    EXPECT_TRUE(listener_uids_in(tcp, "10.213.77.11", 8080).empty());
    EXPECT_EQ(listener_uids_in(tcp6, "10.213.77.11", 8080), (std::vector<unsigned>{0}));
    const std::string mapped =
        "  sl  local_address                         remote_address                        st "
        "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        "   0: 0000000000000000FFFF00000B4DD50A:1F90 00000000000000000000000000000000:0000 0A "
        "00000000:00000000 00:00000000 00000000  1003        0 45 1 0000000000000000 100 0 0 10 "
        "0\n"
        "   1: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A "
        "00000000:00000000 00:00000000 00000000  1004        0 46 1 0000000000000000 100 0 0 10 "
        "0\n";
    EXPECT_EQ(listener_uids_in(mapped, "10.213.77.11", 8080), (std::vector<unsigned>{1003}));
    EXPECT_EQ(listener_uids_in(mapped, "127.0.0.1", 8080), (std::vector<unsigned>{1004}));
    EXPECT_TRUE(listener_uids_in(tcp, "node1", 8080).empty());
}

// A real listener of another user (a child that drops to nobody) is seen with that user's uid.
TEST(Listeners, AnotherUsersListenerIsSeenAsTheirs) {
    if (!testing::OtherUsersListener::possible()) GTEST_SKIP() << "needs root";
    std::uint16_t port = 0;
    {
        testing::OtherUsersListener other;
        port = other.port();
        ASSERT_NE(port, 0);
        EXPECT_EQ(listener_uids(kLoopbackAddress, port),
                  (std::vector<unsigned>{testing::OtherUsersListener::kUid}));
        EXPECT_EQ(foreign_listener(kLoopbackAddress, port), "65534 (nobody)");
    }
    EXPECT_TRUE(listener_uids(kLoopbackAddress, port).empty());
    EXPECT_FALSE(foreign_listener(kLoopbackAddress, port));
}

}  // namespace
}  // namespace spark_slurm
