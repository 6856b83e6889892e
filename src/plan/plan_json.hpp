// The plan and the rendezvous reports as JSON: the wire format between ranks and the output of
// `spark-slurm plan --json`. Neither the job's secret nor the Connect token is ever in it, only
// their fingerprints: the ranks read them from the shared filesystem and check them against the
// fingerprints (rendezvous/job_secrets.hpp), and printed plans can be compared without showing
// them.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

#include "plan/plan.hpp"

namespace spark_slurm {

nlohmann::json report_to_json(const NodeReport& report);
NodeReport report_from_json(const nlohmann::json& json);

// The only way the JSON holds secrets: as fingerprints (issue 27: the plan's broadcast must not
// carry them). A parameter still, so that every caller says so.
enum class SecretHandling { Fingerprint };
nlohmann::json plan_to_json(const Plan& plan, SecretHandling secret);
// Writes the same text as plan_to_json(plan, secret) plus `extra_fields`, then dump(), but one node
// at a time: a 100,000-node plan never exists as one JSON document (that took 816 MiB and 7 s).
void write_plan_json(std::ostream& out, const Plan& plan, SecretHandling secret,
                     const nlohmann::json& extra_fields = nlohmann::json::object());
Plan plan_from_json(const nlohmann::json& json);

// A short, non-reversible tag of a secret: SHA-256 (OpenSSL) of a label and the secret,
// truncated to 128 bits, in hex (32 digits). The fields "secret_fingerprint" and, with Connect,
// "connect_token_fingerprint" of the plan's JSON. Throws LaunchError if OpenSSL fails.
std::string secret_fingerprint(const std::string& secret);

}  // namespace spark_slurm
