// The per-job TLS identity of the Spark Connect gateway: a fresh key and a self-signed
// certificate, made on the leader when the cluster comes up. The certificate is its own trust
// root (CA:TRUE), so a client trusts exactly this job's gateway by loading the one PEM file
// (gRPC: GRPC_DEFAULT_SSL_ROOTS_FILE_PATH) and nothing else has to be distributed.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace spark_slurm {

struct TlsIdentity {
    std::string certificate_pem;
    std::string private_key_pem;  // unencrypted PKCS#8: write it with mode 0600
};

// An EC P-256 key and an X.509 v3 certificate valid from now for `validity`, naming every DNS
// name and IP address (IPv4 or IPv6, numeric) in its subjectAltName; the common name is the first
// DNS name. At least one name is required. Throws LaunchError when OpenSSL fails or an address
// is not numeric.
TlsIdentity make_self_signed_identity(const std::vector<std::string>& dns_names,
                                      const std::vector<std::string>& ip_addresses,
                                      std::chrono::hours validity);

}  // namespace spark_slurm
