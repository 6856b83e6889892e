// TEMPORARY placeholder until the issue-gateway branch is merged.
#pragma once
#include <chrono>
#include <string>
#include <vector>
namespace spark_slurm {
struct TlsIdentity {
    std::string certificate_pem;
    std::string private_key_pem;
};
TlsIdentity make_self_signed_identity(const std::vector<std::string>& dns_names,
                                      const std::vector<std::string>& ip_addresses,
                                      std::chrono::hours validity);
}  // namespace spark_slurm
