#include "common/sizes.hpp"

#include <gtest/gtest.h>

namespace spark_slurm {
namespace {

TEST(ParseSize, AcceptsBinarySuffixesInAnyCase) {
    EXPECT_EQ(parse_size("16G"), 16 * kGiB);
    EXPECT_EQ(parse_size("512m"), 512 * kMiB);
    EXPECT_EQ(parse_size("1T"), kTiB);
    EXPECT_EQ(parse_size("4k"), 4 * kKiB);
    EXPECT_EQ(parse_size("2GB"), 2 * kGiB);
    EXPECT_EQ(parse_size("2GiB"), 2 * kGiB);
    EXPECT_EQ(parse_size("100"), 100u);
}

TEST(ParseSize, RejectsWhatIsNotASize) {
    for (const char* text :
         {"", "12Q", "G", "-1G", "1.5G", "1 G", "1GG", "abc", "99999999999999T"}) {
        EXPECT_FALSE(parse_size(text)) << text;
    }
}

TEST(ParseCount, OnlyWholeNonNegativeNumbers) {
    EXPECT_EQ(parse_count("3"), 3u);
    EXPECT_FALSE(parse_count("-3"));
    EXPECT_FALSE(parse_count("3x"));
    EXPECT_FALSE(parse_count(""));
    EXPECT_FALSE(parse_count("+3"));
}

TEST(FormatSize, UsesTheLargestExactUnit) {
    EXPECT_EQ(format_size(16 * kGiB), "16G");
    EXPECT_EQ(format_size(1536 * kMiB), "1536M");
    EXPECT_EQ(format_size(1000), "1000");
}

}  // namespace
}  // namespace spark_slurm
