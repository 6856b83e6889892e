// The enum name tables: the helper itself, and that every value of each table's enum has its
// name (a table, unlike a switch, does not fail to compile when a value is added).
#include "common/enum_names.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "allocation/allocation.hpp"
#include "cds/cds_options.hpp"
#include "options/option_table.hpp"
#include "options/options.hpp"
#include "plan/plan.hpp"
#include "services/services.hpp"

namespace spark_slurm {
namespace {

enum class Colour { Red, Green, Blue };
constexpr EnumName<Colour> kColourNames[] = {{Colour::Red, "red"}, {Colour::Green, "green"}};

TEST(EnumNames, NameAndValueBothWays) {
    static_assert(enum_name(kColourNames, Colour::Green) == std::string_view("green"));
    EXPECT_STREQ(enum_name(kColourNames, Colour::Red), "red");
    EXPECT_STREQ(enum_name(kColourNames, Colour::Blue), "?");
    EXPECT_STREQ(enum_name(kColourNames, Colour::Blue, "unknown"), "unknown");
    EXPECT_EQ(enum_named(kColourNames, "green"), Colour::Green);
    EXPECT_EQ(enum_named(kColourNames, "Green"), std::nullopt);
    EXPECT_EQ(enum_named(kColourNames, "blue"), std::nullopt);
    EXPECT_EQ(find_row(kColourNames, Colour::Blue), nullptr);
    EXPECT_EQ(find_row(kColourNames, Colour::Red), &kColourNames[0]);
}

TEST(EnumNames, EveryCommandHasItsOwnName) {
    std::set<std::string> names;
    for (Command command : {Command::Run, Command::Up, Command::Plan, Command::Doctor, Command::Env,
                            Command::Status, Command::List, Command::Down, Command::History}) {
        names.insert(to_string(command));
        const std::string usage = option_table::usage_line(command);
        EXPECT_EQ(usage.rfind(std::string("spark-slurm ") + to_string(command) + " ", 0), 0u)
            << usage;
    }
    EXPECT_EQ(names.size(), 9u);
    EXPECT_EQ(names.count("?"), 0u);
}

TEST(EnumNames, EveryOtherTableNamesEveryValue) {
    EXPECT_STREQ(to_string(RuntimeChoice::Auto), "auto");
    EXPECT_STREQ(to_string(RuntimeChoice::Apptainer), "apptainer");
    EXPECT_STREQ(to_string(RuntimeChoice::Singularity), "singularity");
    EXPECT_STREQ(to_string(RuntimeChoice::None), "none");
    for (Termination termination :
         {Termination::RequeuedBySlurm, Termination::Preempted, Termination::TimeLimit,
          Termination::Cancelled, Termination::Unknown})
        EXPECT_STRNE(describe(termination), "?");
    EXPECT_STREQ(to_string(Role::Leader), "leader");
    EXPECT_STREQ(to_string(Role::Worker), "worker");
    EXPECT_STREQ(to_string(Role::LeaderAndWorker), "leader+worker");
    EXPECT_STREQ(to_string(Role::Idle), "idle");
    std::set<std::string> daemon_names;
    for (Daemon daemon : {Daemon::SparkMaster, Daemon::Namenode, Daemon::SparkWorker,
                          Daemon::Datanode, Daemon::ConnectServer, Daemon::Kdc}) {
        daemon_names.insert(display_name(daemon));
        daemon_names.insert(file_name(daemon));
    }
    EXPECT_EQ(daemon_names.size(), 12u);
    EXPECT_EQ(daemon_names.count("?"), 0u);
    EXPECT_STREQ(file_name(Daemon::ConnectServer), "spark-connect");
    EXPECT_STREQ(display_name(Daemon::ConnectServer), "spark connect server");
    std::set<std::string> target_names;
    for (CdsTarget target : kCdsTargets) {
        target_names.insert(cds_file_stem(target));
        target_names.insert(cds_display_name(target));
    }
    EXPECT_EQ(target_names.size(), 2 * std::size(kCdsTargets));
    EXPECT_EQ(target_names.count("unknown"), 0u);
    EXPECT_STREQ(cds_file_stem(CdsTarget::SparkApp), "spark-app");
    EXPECT_STREQ(cds_display_name(CdsTarget::Kdc), "kerberos kdc");
}

}  // namespace
}  // namespace spark_slurm
