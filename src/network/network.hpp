// Facts about this node's network that the plan needs: the address other nodes reach it at,
// whether an address is one of ours, and which ports are free.
#pragma once

#include <cstdint>
#include <set>
#include <string>

namespace spark_slurm {

std::string this_hostname();

// The first non-loopback IPv4 address `hostname` resolves to; empty if none.
std::string resolve_address(const std::string& hostname);

// True when `address` is assigned to an interface of this node.
bool is_local_address(const std::string& address);

// `preferred` when nothing listens on it here, else a free ephemeral port; never one in `taken`.
// Checking and later binding are not atomic: another process may take the port in between, and
// the daemon then fails to start, which the launcher reports with the daemon's log.
std::uint16_t pick_free_port(std::uint16_t preferred, std::set<std::uint16_t>& taken);

}  // namespace spark_slurm
