// TEMPORARY placeholder until the issue-gateway branch is merged.
#include "connect/tls_certificate.hpp"

#include "common/errors.hpp"
namespace spark_slurm {
TlsIdentity make_self_signed_identity(const std::vector<std::string>&,
                                      const std::vector<std::string>&, std::chrono::hours) {
    throw LaunchError("the Connect TLS gateway is not built yet");
}
}  // namespace spark_slurm
