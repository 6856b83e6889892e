// The plan and the rendezvous reports as JSON: the wire format between ranks and the output of
// `spark-slurm plan --json`. The secret only travels on the wire; printed plans carry a
// fingerprint so that ranks can be compared without showing it.
#pragma once

#include <nlohmann/json.hpp>

#include "plan/plan.hpp"

namespace spark_slurm {

nlohmann::json report_to_json(const NodeReport& report);
NodeReport report_from_json(const nlohmann::json& json);

enum class SecretHandling { Include, Fingerprint };
nlohmann::json plan_to_json(const Plan& plan, SecretHandling secret);
Plan plan_from_json(const nlohmann::json& json);

// A short, non-reversible tag of the secret (FNV-1a, 64 bits, hex).
std::string secret_fingerprint(const std::string& secret);

}  // namespace spark_slurm
