#include "common/overloaded.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>

namespace spark_slurm {
namespace {

TEST(Overloaded, EachAlternativeGoesToItsOwnHandler) {
    using Value = std::variant<int, std::string, double>;
    auto describe = [](const Value& value) {
        return std::visit(Overloaded{[](int number) { return "int " + std::to_string(number); },
                                     [](const std::string& text) { return "text " + text; },
                                     [](const auto&) { return std::string("other"); }},
                          value);
    };
    EXPECT_EQ(describe(Value{7}), "int 7");
    EXPECT_EQ(describe(Value{std::string("x")}), "text x");
    EXPECT_EQ(describe(Value{1.5}), "other");
}

}  // namespace
}  // namespace spark_slurm
