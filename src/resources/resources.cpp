#include "resources/resources.hpp"

#include <hwloc.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/errors.hpp"
#include "common/sizes.hpp"

namespace spark_slurm {

NodeResources usable_resources(const ResourceLimits& limits) {
    NodeResources resources;
    resources.cpus = limits.usable_cpus;
    if (limits.slurm_cpus_on_node && *limits.slurm_cpus_on_node > 0) {
        resources.cpus = std::min(resources.cpus, *limits.slurm_cpus_on_node);
    }
    std::uint64_t memory = limits.machine_memory;
    if (limits.slurm_mem_per_node && *limits.slurm_mem_per_node > 0) {
        memory = std::min(memory, *limits.slurm_mem_per_node);
    } else if (limits.slurm_mem_per_cpu && *limits.slurm_mem_per_cpu > 0) {
        memory = std::min(memory, *limits.slurm_mem_per_cpu * std::max(resources.cpus, 1u));
    }
    if (limits.cgroup_memory_limit) memory = std::min(memory, *limits.cgroup_memory_limit);
    resources.memory = memory;
    return resources;
}

namespace {

hwloc_topology_t new_topology() {
    hwloc_topology_t topology = nullptr;
    if (hwloc_topology_init(&topology) != 0)
        throw LaunchError("while initialising hwloc: out of memory");
    return topology;
}

struct Bitmap {
    Bitmap() : bitmap(hwloc_bitmap_alloc()) {}
    ~Bitmap() { hwloc_bitmap_free(bitmap); }
    Bitmap(const Bitmap&) = delete;
    Bitmap& operator=(const Bitmap&) = delete;
    hwloc_bitmap_t bitmap;
};

std::optional<std::uint64_t> read_limit_file(const std::filesystem::path& path) {
    std::ifstream file(path);
    std::string text;
    if (!(file >> text) || text == "max") return {};
    auto value = parse_count(text);
    // cgroup v1 reports "no limit" as a huge page-aligned number.
    if (value && *value >= (std::uint64_t{1} << 62)) return {};
    return value;
}

// hwloc dlopen()s its plugins (OpenGL, OpenCL, PCI and libxml2, with libX11 and ICU behind them)
// when the process's first topology is created. None of them finds anything the launcher asks
// for (CPUs and memory), and loading them was two thirds of the time a rank spent probing its
// node. Unless the user chose plugins, they are skipped for the launcher's own topology only:
// the variable is gone again before MPI_Init creates its topology.
class WithoutHwlocPlugins {
  public:
    WithoutHwlocPlugins() : set_(std::getenv(kVariable) == nullptr) {
        if (set_) ::setenv(kVariable, "hwloc_gl,hwloc_opencl,hwloc_pci,hwloc_xml_libxml", 0);
    }
    ~WithoutHwlocPlugins() {
        if (set_) ::unsetenv(kVariable);
    }
    WithoutHwlocPlugins(const WithoutHwlocPlugins&) = delete;
    WithoutHwlocPlugins& operator=(const WithoutHwlocPlugins&) = delete;

  private:
    static constexpr const char* kVariable = "HWLOC_PLUGINS_BLACKLIST";
    bool set_;
};

}  // namespace

void Topology::Destroy::operator()(hwloc_topology* topology) const {
    hwloc_topology_destroy(topology);
}

Topology Topology::of_this_machine() {
    WithoutHwlocPlugins without_plugins;
    hwloc_topology_t topology = new_topology();
    // Only CPUs and memory are counted: caches (a dozen sysfs files per CPU) are not read.
    hwloc_topology_set_cache_types_filter(topology, HWLOC_TYPE_FILTER_KEEP_NONE);
    hwloc_topology_set_icache_types_filter(topology, HWLOC_TYPE_FILTER_KEEP_NONE);
    if (hwloc_topology_load(topology) != 0) {
        hwloc_topology_destroy(topology);
        throw LaunchError("while loading this machine's hwloc topology");
    }
    return Topology(topology);
}

Topology Topology::from_xml(const std::string& xml) {
    hwloc_topology_t topology = new_topology();
    if (hwloc_topology_set_xmlbuffer(topology, xml.c_str(), static_cast<int>(xml.size()) + 1) !=
            0 ||
        hwloc_topology_load(topology) != 0) {
        hwloc_topology_destroy(topology);
        throw LaunchError("while loading an hwloc XML topology: it does not parse");
    }
    return Topology(topology);
}

Topology Topology::from_synthetic(const std::string& description) {
    hwloc_topology_t topology = new_topology();
    if (hwloc_topology_set_synthetic(topology, description.c_str()) != 0 ||
        hwloc_topology_load(topology) != 0) {
        hwloc_topology_destroy(topology);
        throw LaunchError("while loading the synthetic hwloc topology '" + description + "'");
    }
    return Topology(topology);
}

unsigned count_usable_cpus(const Topology& topology, const std::string& binding) {
    Bitmap usable;
    hwloc_bitmap_copy(usable.bitmap, hwloc_topology_get_allowed_cpuset(topology.get()));
    if (!binding.empty()) {
        Bitmap bound;
        if (hwloc_bitmap_list_sscanf(bound.bitmap, binding.c_str()) != 0) {
            throw LaunchError("while reading the cpu binding '" + binding + "'");
        }
        hwloc_bitmap_and(usable.bitmap, usable.bitmap, bound.bitmap);
    }
    return static_cast<unsigned>(
        hwloc_get_nbobjs_inside_cpuset_by_type(topology.get(), usable.bitmap, HWLOC_OBJ_PU));
}

std::uint64_t total_memory(const Topology& topology) {
    return hwloc_get_root_obj(topology.get())->total_memory;
}

std::string this_process_binding(const Topology& topology) {
    Bitmap bound;
    if (hwloc_get_cpubind(topology.get(), bound.bitmap, HWLOC_CPUBIND_PROCESS) != 0) return "";
    char* text = nullptr;
    hwloc_bitmap_list_asprintf(&text, bound.bitmap);
    std::string result = text ? text : "";
    free(text);
    return result;
}

void apply_slurm_limits(const SlurmFacts& slurm, ResourceLimits& limits) {
    limits.slurm_cpus_on_node = slurm.cpus_on_node;
    limits.slurm_mem_per_node = slurm.mem_per_node;
    limits.slurm_mem_per_cpu = slurm.mem_per_cpu;
}

std::optional<std::uint64_t> this_process_cgroup_memory_limit() {
    std::ifstream membership("/proc/self/cgroup");
    std::string line;
    std::optional<std::uint64_t> tightest;
    auto consider = [&](std::optional<std::uint64_t> limit) {
        if (limit && (!tightest || *limit < *tightest)) tightest = limit;
    };
    while (std::getline(membership, line)) {
        // "0::/path" (v2) or "N:memory:/path" (v1).
        auto first = line.find(':');
        auto second = line.find(':', first + 1);
        if (first == std::string::npos || second == std::string::npos) continue;
        std::string controllers = line.substr(first + 1, second - first - 1);
        std::filesystem::path path = line.substr(second + 1);
        bool v2 = controllers.empty();
        bool v1_memory = controllers.find("memory") != std::string::npos;
        if (!v2 && !v1_memory) continue;
        std::filesystem::path root = v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
        const char* file = v2 ? "memory.max" : "memory.limit_in_bytes";
        for (auto dir = path;; dir = dir.parent_path()) {
            consider(read_limit_file(root / dir.relative_path() / file));
            if (dir == dir.parent_path()) break;
        }
    }
    return tightest;
}

ResourceLimits probe_this_node(const SlurmFacts& slurm) {
    auto topology = Topology::of_this_machine();
    ResourceLimits limits;
    limits.usable_cpus = count_usable_cpus(topology, this_process_binding(topology));
    limits.machine_memory = total_memory(topology);
    apply_slurm_limits(slurm, limits);
    limits.cgroup_memory_limit = this_process_cgroup_memory_limit();
    return limits;
}

}  // namespace spark_slurm
