// Node resources on synthetic and recorded machines: the decision is pure, the topology is
// loaded by hwloc from a description rather than probed from the test machine.
#include "resources/resources.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/sizes.hpp"

namespace spark_slurm {
namespace {

SlurmFacts slurm(Environment variables) { return read_job_environment(std::move(variables)).slurm; }

// 2 sockets x 64 cores x 2 hardware threads, 256 GiB in two NUMA nodes.
constexpr const char* kBigSmtNode = "pack:2 [numa(memory=137438953472)] core:64 pu:2";
constexpr const char* kBigNode = "pack:2 [numa(memory=137438953472)] core:64 pu:1";

TEST(Resources, CountsEveryHardwareThreadOfAnSmtMachine) {
    auto topology = Topology::from_synthetic(kBigSmtNode);
    EXPECT_EQ(count_usable_cpus(topology, ""), 256u);
    EXPECT_EQ(total_memory(topology), 256 * kGiB);
}

TEST(Resources, SmtOffCountsCores) {
    auto topology = Topology::from_synthetic(kBigNode);
    EXPECT_EQ(count_usable_cpus(topology, ""), 128u);
}

TEST(Resources, ARestrictedCpusetLimitsTheCores) {
    auto topology = Topology::from_synthetic(kBigSmtNode);
    EXPECT_EQ(count_usable_cpus(topology, "0-15"), 16u);
    EXPECT_EQ(count_usable_cpus(topology, "0,2,4,200"), 4u);
    EXPECT_EQ(count_usable_cpus(topology, "1000-1010"), 0u);
}

TEST(Resources, SlurmCpusOnNodeBoundsTheCpuset) {
    ResourceLimits limits;
    limits.usable_cpus = 256;
    limits.machine_memory = 256 * kGiB;
    apply_slurm_limits(slurm({{"SLURM_CPUS_ON_NODE", "32"}}), limits);
    EXPECT_EQ(usable_resources(limits).cpus, 32u);
    // ...but never raises it: a binding to 8 CPUs wins over a larger Slurm count.
    limits.usable_cpus = 8;
    EXPECT_EQ(usable_resources(limits).cpus, 8u);
}

TEST(Resources, AMemoryLimitedJobGetsItsLimit) {
    ResourceLimits limits;
    limits.usable_cpus = 128;
    limits.machine_memory = 256 * kGiB;
    apply_slurm_limits(slurm({{"SLURM_MEM_PER_NODE", "65536"}}), limits);
    EXPECT_EQ(usable_resources(limits).memory, 64 * kGiB);
}

TEST(Resources, MemoryPerCpuScalesWithTheUsableCpus) {
    ResourceLimits limits;
    limits.usable_cpus = 16;
    limits.machine_memory = 256 * kGiB;
    apply_slurm_limits(slurm({{"SLURM_MEM_PER_CPU", "2048"}, {"SLURM_CPUS_ON_NODE", "8"}}), limits);
    auto resources = usable_resources(limits);
    EXPECT_EQ(resources.cpus, 8u);
    EXPECT_EQ(resources.memory, 16 * kGiB);
}

TEST(Resources, TheCgroupLimitIsTheTightest) {
    ResourceLimits limits;
    limits.usable_cpus = 4;
    limits.machine_memory = 256 * kGiB;
    limits.slurm_mem_per_node = 64 * kGiB;
    limits.cgroup_memory_limit = 48 * kGiB;
    EXPECT_EQ(usable_resources(limits).memory, 48 * kGiB);
}

TEST(Resources, SlurmValuesWithUnitsOrCountsTakeTheLeadingNumber) {
    ResourceLimits limits;
    apply_slurm_limits(slurm({{"SLURM_CPUS_ON_NODE", "4(x2)"}}), limits);
    EXPECT_EQ(limits.slurm_cpus_on_node, 4u);
}

TEST(Resources, ARecordedMachine) {
    // The 2-CPU VM the project's CI runs on, recorded with `lstopo --of xml`.
    std::ifstream file(std::string(SPARK_SLURM_TEST_DATA) + "/debian12-2cpu-vm.xml");
    std::stringstream xml;
    xml << file.rdbuf();
    auto topology = Topology::from_xml(xml.str());
    EXPECT_EQ(count_usable_cpus(topology, ""), 2u);
    EXPECT_EQ(count_usable_cpus(topology, "1"), 1u);
    EXPECT_GT(total_memory(topology), 1 * kGiB);
}

TEST(Resources, ThisMachineCanBeProbed) {
    auto limits = probe_this_node(SlurmFacts{});
    EXPECT_GE(limits.usable_cpus, 1u);
    EXPECT_GT(limits.machine_memory, 0u);
}

}  // namespace
}  // namespace spark_slurm
