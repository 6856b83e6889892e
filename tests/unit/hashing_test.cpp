#include "common/hashing.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>

#include "cds/cds_options.hpp"

namespace spark_slurm {
namespace {

TEST(HexEncode, TwoLowercaseDigitsAByteInOrder) {
    EXPECT_EQ(hex_encode({}), "");
    const std::array<unsigned char, 5> bytes{0x00, 0x01, 0x7f, 0xab, 0xff};
    EXPECT_EQ(hex_encode(bytes), "00017fabff");
}

TEST(Fnv1a64, GivesThePublishedValues) {
    // The reference vectors of the FNV authors (64-bit FNV-1a).
    EXPECT_EQ(Fnv1a64().value(), 0xcbf29ce484222325ULL);
    Fnv1a64 a;
    a.add("a");
    EXPECT_EQ(a.value(), 0xaf63dc4c8601ec8cULL);
    Fnv1a64 foobar;
    foobar.add("foo");
    foobar.add("bar");
    EXPECT_EQ(foobar.value(), 0x85944171f73967e8ULL);
    EXPECT_EQ(foobar.hex(), "85944171f73967e8");
}

TEST(Fnv1a64, HexIsSixteenDigitsWithLeadingZeros) {
    // Found by search: an input whose hash starts with a zero nibble.
    for (int i = 0;; ++i) {
        Fnv1a64 hash;
        hash.add(std::to_string(i));
        if (hash.value() >> 60 != 0) continue;
        EXPECT_EQ(hash.hex().size(), 16u);
        EXPECT_EQ(hash.hex().front(), '0');
        break;
    }
}

// The class-data archives in users' caches are named by these keys: the same inputs must keep
// giving the same key, or every cached archive goes stale on an upgrade.
TEST(Fnv1a64, CdsKeysAreThoseOfEarlierVersions) {
    CdsKeyInputs inputs{CdsTarget::SparkMaster, "/usr/lib/jvm/17\nJAVA_VERSION=\"17.0.15\"\n",
                        "/opt/spark/jars/*", "/opt/spark/jars/spark-core_2.13-4.0.5.jar 123 456\n",
                        ""};
    EXPECT_EQ(cds_key(inputs), "4ec20c8fb9027b80");
    inputs.program = "class SparkSlurmKdc { /* another */ }";
    EXPECT_EQ(cds_key(inputs), "6b057c00dc382f30");
}

}  // namespace
}  // namespace spark_slurm
