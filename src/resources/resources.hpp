// What one node can give the cluster. Probing (hwloc, cgroup files, SLURM_* variables) is kept
// apart from deciding (usable_resources, pure), so the decision is tested on recorded and
// synthetic machines rather than only on the one the tests happen to run on.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/job_environment.hpp"

// hwloc's own type, kept out of this header: only resources.cpp includes hwloc.h, so hwloc is
// a private dependency of this library.
struct hwloc_topology;

namespace spark_slurm {

// Everything that bounds a node's cores and memory, as probed.
struct ResourceLimits {
    unsigned usable_cpus = 0;          // PUs in the allowed cpuset that this process is bound to
    std::uint64_t machine_memory = 0;  // hwloc's total memory of the (allowed) machine
    std::optional<unsigned> slurm_cpus_on_node;
    std::optional<std::uint64_t> slurm_mem_per_node;   // bytes
    std::optional<std::uint64_t> slurm_mem_per_cpu;    // bytes
    std::optional<std::uint64_t> cgroup_memory_limit;  // bytes
};

struct NodeResources {
    unsigned cpus = 0;
    std::uint64_t memory = 0;  // bytes, before any reserve for the OS and daemons
    bool operator==(const NodeResources&) const = default;
};

// The smallest bound wins: cores by the cpuset and SLURM_CPUS_ON_NODE; memory by the machine,
// the job's --mem / --mem-per-cpu and the cgroup limit.
NodeResources usable_resources(const ResourceLimits& limits);

// An hwloc topology owned for its whole life.
class Topology {
  public:
    static Topology of_this_machine();
    static Topology from_xml(const std::string& xml);
    static Topology from_synthetic(const std::string& description);

    hwloc_topology* get() const { return topology_.get(); }

  private:
    struct Destroy {
        void operator()(hwloc_topology* topology) const;
    };
    explicit Topology(hwloc_topology* topology) : topology_(topology) {}
    std::unique_ptr<hwloc_topology, Destroy> topology_;
};

// PUs that are both allowed (cgroup cpuset) and in `binding` (a list like "0-3,8"; empty = all).
unsigned count_usable_cpus(const Topology& topology, const std::string& binding);

std::uint64_t total_memory(const Topology& topology);

// SLURM_CPUS_ON_NODE, SLURM_MEM_PER_NODE and SLURM_MEM_PER_CPU, as the job's bounds.
void apply_slurm_limits(const SlurmFacts& slurm, ResourceLimits& limits);

// The binding of this process as a cpu list, e.g. "0-1".
std::string this_process_binding(const Topology& topology);

// The memory.max of this process's cgroup (v2) or memory.limit_in_bytes (v1), tightest ancestor.
std::optional<std::uint64_t> this_process_cgroup_memory_limit();

// All probes for the node this process runs on.
ResourceLimits probe_this_node(const SlurmFacts& slurm);

}  // namespace spark_slurm
