// Port claims: two launchers on one node (jobs sharing nodes) that probe at the same moment are
// never handed the same port, and a claim ends with its holder.
#include "network/network.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace spark_slurm
